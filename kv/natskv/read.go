package natskv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers of ours on a key's message.
const (
	// hdrExpires is the key's expiry, Unix nanoseconds: the server's TTL
	// has a resolution of a second, and Incr carries the expiry over to
	// the next revision.
	hdrExpires = "Wasmcluster-Expires"
	hdrKVOp    = "KV-Operation"
)

// entry is the latest message on a key's subject.
type entry struct {
	value   []byte
	seq     uint64    // the message's sequence: the revision when live
	live    bool      // false: no message, a delete marker, or expired
	msgID   string    // the writer's message id (publish's resend looks for it)
	expires time.Time // zero: never
}

// last reads key's latest message. Reads go to the stream's leader when
// the bucket is replicated (a direct get may be answered by a follower
// that has not applied the caller's own write yet), and through the
// cheaper direct get when there is one replica.
func (s *Store) last(ctx context.Context, subj string) (entry, error) {
	if _, err := s.bound(ctx); err != nil {
		return entry{}, err
	}
	var m *jetstream.RawStreamMsg
	var err error
	if s.cfg.Replicas > 1 {
		m, err = s.leaderGet(ctx, subj)
	} else {
		m, err = s.stream.GetLastMsgForSubject(ctx, subj)
	}
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return entry{}, nil
	}
	if err != nil {
		return entry{}, s.mapErr("get", err)
	}
	return classify(m), nil
}

func classify(m *jetstream.RawStreamMsg) entry {
	e := entry{value: m.Data, seq: m.Sequence, live: true}
	if len(m.Header) == 0 {
		return e
	}
	e.msgID = m.Header.Get(jetstream.MsgIDHeader)
	if m.Header.Get(hdrKVOp) != "" || m.Header.Get(jetstream.MarkerReasonHeader) != "" {
		e.live = false
		return e
	}
	if x := m.Header.Get(hdrExpires); x != "" {
		if ns, err := strconv.ParseInt(x, 10, 64); err == nil {
			e.expires = time.Unix(0, ns)
			e.live = time.Now().Before(e.expires)
		}
	}
	return e
}

type msgGetResponse struct {
	Error *struct {
		Code        int    `json:"code"`
		ErrorCode   int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
	Message *struct {
		Subject string    `json:"subject"`
		Seq     uint64    `json:"seq"`
		Header  []byte    `json:"hdrs"`
		Data    []byte    `json:"data"`
		Time    time.Time `json:"time"`
	} `json:"message"`
}

// leaderGet is STREAM.MSG.GET, which only the stream's leader answers.
func (s *Store) leaderGet(ctx context.Context, subj string) (*jetstream.RawStreamMsg, error) {
	req, _ := json.Marshal(map[string]string{"last_by_subj": subj})
	reply, err := s.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+s.name, req)
	if err != nil {
		return nil, err
	}
	var r msgGetResponse
	if err := json.Unmarshal(reply.Data, &r); err != nil {
		return nil, fmt.Errorf("decoding the stream's reply: %w", err)
	}
	if r.Error != nil {
		if r.Error.ErrorCode == int(jetstream.JSErrCodeMessageNotFound) {
			return nil, jetstream.ErrMsgNotFound
		}
		return nil, &jetstream.APIError{Code: r.Error.Code, ErrorCode: jetstream.ErrorCode(r.Error.ErrorCode), Description: r.Error.Description}
	}
	if r.Message == nil {
		return nil, jetstream.ErrInvalidJetStreamResponse
	}
	m := &jetstream.RawStreamMsg{Subject: r.Message.Subject, Sequence: r.Message.Seq, Data: r.Message.Data, Time: r.Message.Time}
	if len(r.Message.Header) > 0 {
		if m.Header, err = nats.DecodeHeadersMsg(r.Message.Header); err != nil {
			return nil, err
		}
	}
	return m, nil
}
