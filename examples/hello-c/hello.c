/*
 * hello-c: a plugin in C. "/" answers hello, "/agent" echoes the client's
 * User-Agent header, anything else is a 404; the guest answers every
 * request itself and never calls next.
 */
#include "wasmcluster.h"

/* One request runs at a time in an instance, so static buffers are safe. */
static char path[2048];
static char agent[512];

static uint64_t answer(uint32_t status, const char *body)
{
	wc_set_status_code(status);
	wc_set_header("content-type", "text/plain; charset=utf-8");
	wc_write_str(body);
	return wc_ctx_next(0, 0);
}

static uint64_t echo_agent(void)
{
	int32_t n = wc_request_header("user-agent", agent, sizeof agent);
	if (n == WC_ABSENT)
		return answer(400, "no User-Agent header\n");
	if (n == WC_TOO_LONG)
		return answer(431, "User-Agent too long\n");
	answer(200, "your user-agent: ");
	wc_write(agent, (uint32_t)n); /* later writes append */
	wc_write_str("\n");
	return wc_ctx_next(0, 0);
}

uint64_t handle_request(void)
{
	if (wc_path(path, sizeof path) == WC_TOO_LONG)
		return answer(414, "URI too long\n");
	if (strcmp(path, "/") == 0)
		return answer(200, "hello from c\n");
	if (strcmp(path, "/agent") == 0)
		return echo_agent();
	return answer(404, "not found\n");
}
