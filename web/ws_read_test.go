package web

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// clientFrame is one frame as a browser sends it: masked.
func clientFrame(op int, fin bool, payload []byte) []byte {
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		out = append(out, 0x80|byte(n))
	case n < 1<<16:
		out = append(out, 0x80|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	out = append(out, key[:]...)
	for i, c := range payload {
		out = append(out, c^key[i&3])
	}
	return out
}

type controlSeen struct {
	op      int
	payload string
}

func readAll(t *testing.T, stream []byte, limit int64) ([]controlSeen, error) {
	t.Helper()
	var seen []controlSeen
	err := readFrames(bytes.NewReader(stream), limit, func(op int, payload []byte) error {
		seen = append(seen, controlSeen{op, string(payload)})
		return nil
	})
	return seen, err
}

func TestReadFramesSkipsDataAndUnmasksControlFrames(t *testing.T) {
	var stream []byte
	stream = append(stream, clientFrame(websocket.TextMessage, true, []byte("hello"))...)
	stream = append(stream, clientFrame(websocket.PingMessage, true, []byte("are you there"))...)
	stream = append(stream, clientFrame(websocket.BinaryMessage, false, bytes.Repeat([]byte("x"), 300))...) // 16-bit length, in pieces
	stream = append(stream, clientFrame(websocket.PongMessage, true, []byte("p"))...)                       // between fragments
	stream = append(stream, clientFrame(0, true, []byte("end of message"))...)
	stream = append(stream, clientFrame(websocket.CloseMessage, true, []byte{0x03, 0xe8})...)
	stream = append(stream, clientFrame(websocket.PingMessage, true, []byte("after close"))...)
	seen, err := readAll(t, stream, 4096)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("a close frame should end the read with io.EOF, got %v", err)
	}
	want := []controlSeen{{websocket.PingMessage, "are you there"}, {websocket.PongMessage, "p"}}
	if len(seen) != len(want) || seen[0] != want[0] || seen[1] != want[1] {
		t.Fatalf("control frames seen %+v, want %+v", seen, want)
	}
}

func TestReadFramesRefusesWhatGorillaRefused(t *testing.T) {
	unmasked := clientFrame(websocket.TextMessage, true, []byte("hi"))
	unmasked[1] &^= 0x80
	unmasked = append(unmasked[:2], []byte("hi")...)
	reserved := clientFrame(websocket.TextMessage, true, []byte("hi"))
	reserved[0] |= 0x40 // compression was not negotiated
	for name, stream := range map[string][]byte{
		"an unmasked frame":        unmasked,
		"a reserved bit":           reserved,
		"an unknown opcode":        clientFrame(3, true, nil),
		"a fragmented ping":        clientFrame(websocket.PingMessage, false, []byte("a")),
		"a ping over 125 bytes":    clientFrame(websocket.PingMessage, true, bytes.Repeat([]byte("a"), 126)),
		"a message over the limit": clientFrame(websocket.TextMessage, true, bytes.Repeat([]byte("a"), 101)),
		"fragments over the limit": append(clientFrame(websocket.TextMessage, false, bytes.Repeat([]byte("a"), 60)),
			clientFrame(0, true, bytes.Repeat([]byte("a"), 60))...),
	} {
		if _, err := readAll(t, stream, 100); !errors.Is(err, errWSProtocol) {
			t.Errorf("%s: got %v, want the protocol error", name, err)
		}
	}
	// Two messages each under the limit are fine: the count starts again.
	ok := append(clientFrame(websocket.TextMessage, true, bytes.Repeat([]byte("a"), 60)),
		clientFrame(websocket.TextMessage, true, bytes.Repeat([]byte("a"), 60))...)
	if _, err := readAll(t, ok, 100); !errors.Is(err, io.EOF) {
		t.Errorf("two messages under the limit: got %v, want the stream's end", err)
	}
	// A frame cut short is the reader's error, not a protocol error.
	cut := clientFrame(websocket.TextMessage, true, []byte(strings.Repeat("a", 50)))[:20]
	if _, err := readAll(t, cut, 100); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a frame cut short: got %v", err)
	}
}
