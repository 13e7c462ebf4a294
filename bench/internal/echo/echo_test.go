package echo

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestMarshalRoundTrip(t *testing.T) {
	body := strings.Repeat("0123456789abcdef", 256)
	hdr := map[string][]string{"accept": {"application/json"}, "x-multi": {"a", "b"}}
	out, err := Marshal("POST", "/bench?q=1", hdr, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	var r Reply
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if r.Method != "POST" || r.URI != "/bench?q=1" || r.BodyLen != 4096 || r.Body != body ||
		len(r.Headers["x-multi"]) != 2 || r.Headers["accept"][0] != "application/json" {
		t.Errorf("round trip lost data: %+v", r)
	}
}
