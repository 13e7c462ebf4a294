package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// ErrNotRunning means no primary answers on the control socket.
var ErrNotRunning = errors.New("no wasmcluster instance is running")

// The commands a primary answers.
const (
	CmdStatus = "status" // args none, result Status
	CmdReload = "reload" // args ReloadArgs, result ReloadResult
)

// request / response are one JSON line each way.
type request struct {
	Cmd  string          `json:"cmd"`
	Args json.RawMessage `json:"args,omitempty"`
}

type response struct {
	OK     bool            `json:"ok"`
	Error  string          `json:"error,omitempty"`
	Result json.RawMessage `json:"result,omitempty"`
}

// QueryStatus asks the primary at path for its status.
func QueryStatus(ctx context.Context, path string) (*Status, error) {
	var st Status
	if err := call(ctx, path, CmdStatus, nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Reload asks the primary at the control socket path to re-read the plugin
// and roll the workers to it, as SIGHUP does. With wait, it returns once
// the roll finished and fails if it did not succeed; without, once the roll
// is queued. A refused plugin fails either way.
func Reload(ctx context.Context, path string, wait bool) (*ReloadResult, error) {
	var res ReloadResult
	if err := call(ctx, path, CmdReload, ReloadArgs{Wait: wait}, &res); err != nil {
		return nil, err
	}
	return &res, nil
}

// call sends one command to the primary at path and decodes its result
// into out (if non-nil). A missing or dead socket yields ErrNotRunning.
func call(ctx context.Context, path, cmd string, args, out any) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT) {
			return fmt.Errorf("%w (no control socket at %s)", ErrNotRunning, path)
		}
		return fmt.Errorf("control socket %s: %w", path, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	req := request{Cmd: cmd}
	if args != nil {
		if req.Args, err = json.Marshal(args); err != nil {
			return fmt.Errorf("encode %s args: %w", cmd, err)
		}
	}
	b, _ := json.Marshal(req)
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("send %s: %w", cmd, err)
	}
	line, err := bufio.NewReader(conn).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("read %s answer: %w", cmd, err)
	}
	var resp response
	if err := json.Unmarshal(line, &resp); err != nil {
		return fmt.Errorf("decode %s answer: %w", cmd, err)
	}
	if !resp.OK {
		return fmt.Errorf("%s: %s", cmd, resp.Error)
	}
	if out != nil {
		if err := json.Unmarshal(resp.Result, out); err != nil {
			return fmt.Errorf("decode %s result: %w", cmd, err)
		}
	}
	return nil
}
