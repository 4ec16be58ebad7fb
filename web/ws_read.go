package web

import (
	"encoding/binary"
	"errors"
	"io"
	"time"

	"github.com/gorilla/websocket"
)

// readPump keeps the read deadline fresh with pongs and notices a closed
// socket; agents send nothing we act on.
//
// It reads the client's frames itself, off the raw connection, instead of
// through gorilla's reader: an idle socket's goroutine then waits in a
// call chain as shallow as a bare TCP reader's, which fits the smallest
// goroutine stack (2 KiB; gorilla's deeper chain makes it grow to 4 KiB
// on every idle socket), and the socket needs no read buffer beyond a
// control frame's 125 bytes. Writes stay gorilla's (WriteControl is safe
// beside them): a ping is answered with a pong, a close frame or any
// protocol error ends the socket like a failed read did.
func (s *Server) readPump(c *wsClient) {
	defer s.hub.remove(c)
	nc := c.conn.NetConn()
	_ = nc.SetReadDeadline(time.Now().Add(wsPongWait))
	_ = readFrames(nc, wsMaxMessage, func(op int, payload []byte) error {
		switch op {
		case websocket.PongMessage:
			return nc.SetReadDeadline(time.Now().Add(wsPongWait))
		case websocket.PingMessage:
			return c.conn.WriteControl(websocket.PongMessage, payload, time.Now().Add(wsWriteWait))
		}
		return nil
	})
}

// errWSProtocol ends a socket whose client broke RFC 6455 (unmasked, reserved
// bits, a bad control frame) or sent a message over the read limit.
var errWSProtocol = errors.New("web: websocket protocol error")

// readFrames reads a client's frames from r until an error or a close
// frame (io.EOF), calling control for each ping and pong with its payload
// (valid only during the call). Data frames are discarded; a message longer
// than limit bytes, summed over its fragments, is an error.
func readFrames(r io.Reader, limit int64, control func(op int, payload []byte) error) error {
	var buf [125]byte // the largest control frame's payload; data is read through it in pieces
	var message int64 // bytes of the data message being read
	for {
		if _, err := io.ReadFull(r, buf[:2]); err != nil {
			return err
		}
		fin, op := buf[0]&0x80 != 0, int(buf[0]&0x0f)
		masked, n := buf[1]&0x80 != 0, int64(buf[1]&0x7f)
		if buf[0]&0x70 != 0 || !masked { // no extension is negotiated; a client masks every frame
			return errWSProtocol
		}
		switch n {
		case 126:
			if _, err := io.ReadFull(r, buf[:2]); err != nil {
				return err
			}
			n = int64(binary.BigEndian.Uint16(buf[:2]))
		case 127:
			if _, err := io.ReadFull(r, buf[:8]); err != nil {
				return err
			}
			u := binary.BigEndian.Uint64(buf[:8])
			if u > 1<<62 {
				return errWSProtocol
			}
			n = int64(u)
		}
		var key [4]byte
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return err
		}
		switch op {
		case websocket.CloseMessage, websocket.PingMessage, websocket.PongMessage:
			if !fin || n > int64(len(buf)) {
				return errWSProtocol
			}
			p := buf[:n]
			if _, err := io.ReadFull(r, p); err != nil {
				return err
			}
			if op == websocket.CloseMessage {
				return io.EOF
			}
			for i := range p {
				p[i] ^= key[i&3]
			}
			if err := control(op, p); err != nil {
				return err
			}
			continue
		case websocket.TextMessage, websocket.BinaryMessage:
			message = 0
		case 0: // a continuation
		default:
			return errWSProtocol
		}
		if message += n; message > limit {
			return errWSProtocol
		}
		for n > 0 { // nothing a client sends is acted on: skip the payload
			k := min(n, int64(len(buf)))
			if _, err := io.ReadFull(r, buf[:k]); err != nil {
				return err
			}
			n -= k
		}
	}
}
