package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/a-h/templ"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// inboxPage is the list with no thread open.
func (s *Server) inboxPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	f := listFilter(r)
	b, err := s.basics(r.Context(), v.BusinessID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rendered := now()
	rows, older, err := s.inboxList(r.Context(), v, f, b, 0)
	if err != nil {
		s.badCursorOrError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, presized(views.Inbox(views.InboxView{
		Page: s.page(r, views.T(r.Context(), "nav.inbox"), "inbox"), Filter: f, Rows: rows, OlderURL: older,
		Labels: b.labels, Members: b.members, Alerts: b.alerts, IsAdmin: v.Can("admin"),
		WSURL: wsURL(f, 0, false, rendered), ListEmpty: emptyKey(f),
	})))
}

// presized renders an inbox page into its buffer after making room for a
// page as large as the largest lately rendered: growing by doubling to
// ~60 KB, copying on every step, was most of the bytes a page allocated.
func presized(c templ.Component) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		buf, ok := w.(*bytes.Buffer)
		if !ok {
			return c.Render(ctx, w)
		}
		buf.Grow(int(pageSize.Load()))
		start := buf.Len()
		err := c.Render(ctx, buf)
		if n := int64(buf.Len() - start); n > pageSize.Load() {
			pageSize.Store(min(n+n/8, 1<<20))
		} else {
			pageSize.Store(max(pageSize.Load()-pageSize.Load()/64, 8<<10)) // shrink slowly after a large page
		}
		return err
	})
}

// pageSize is the buffer presized reserves.
var pageSize atomic.Int64

func emptyKey(f views.ListFilter) string {
	if f == (views.ListFilter{}) {
		return "list.empty_all"
	}
	return "list.empty"
}

// badCursorOrError answers a tampered cursor with 400 and anything else with 500.
func (s *Server) badCursorOrError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, models.ErrBadCursor) {
		s.badRequest(w, r)
		return
	}
	s.serverError(w, r, err)
}
