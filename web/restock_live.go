package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/switchboard-inbox/switchboard/jobs"
	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/policy"
	"github.com/switchboard-inbox/switchboard/views"
)

// productView gathers the product page: waitlist, what a run would do now, runs.
func (s *Server) productView(r *http.Request, p *models.Product) (*views.ProductView, error) {
	pv, err := s.productData(r.Context(), viewerFrom(r.Context()).BusinessID, p)
	if err != nil {
		return nil, err
	}
	pv.Page = s.page(r, p.Name, "products")
	return pv, nil
}

// productData is the product page without its layout (the live frames use it too).
func (s *Server) productData(ctx context.Context, businessID int64, p *models.Product) (*views.ProductView, error) {
	entries, err := s.store.Waitlist(ctx, businessID, p.ID, 500)
	if err != nil {
		return nil, err
	}
	runs, err := s.store.ProductRuns(ctx, businessID, p.ID, 10)
	if err != nil {
		return nil, err
	}
	pv := &views.ProductView{Product: *p, Runs: runs,
		WSURL: productURL(p.SKU) + "/live", Waiting: map[string]int{}, Notifiable: map[string]int{}, Via: map[string]int{}, Skipped: map[string]int{}}
	for i := range runs {
		if runs[i].Status == models.RunRunning {
			pv.Running = &runs[i]
			break
		}
	}
	var preview *jobs.RestockPreview
	if s.restock != nil {
		if preview, err = s.restock.Preview(ctx, businessID, p, entries); err != nil {
			return nil, err
		}
		pv.Waiting, pv.Notifiable, pv.Skipped, pv.Templates = preview.Waiting, preview.Notifiable, preview.Skipped, preview.Templates
		for via, n := range preview.Via {
			pv.Via[string(via)] = n
		}
		if preview.CostKnown && preview.Templates > 0 {
			pv.Cost = fmt.Sprintf("%d.%04d %s", preview.CostMicros/1e6, preview.CostMicros%1e6/100, preview.Currency)
		}
	}
	for _, e := range entries {
		row := views.WaitlistRow{WaitlistEntry: e}
		if preview != nil {
			if d, ok := preview.Entries[e.ID]; ok {
				row.Now = string(d.Via)
				if d.Via == policy.RestockSkip {
					row.NowReason = string(d.Decision.Reason)
				}
			}
		}
		pv.Entries = append(pv.Entries, row)
	}
	return pv, nil
}

// restockWatchers are the product pages open on this replica, which hear a
// run's progress frames (a few a second at most: the run paces its events).
type restockWatchers struct {
	mu   sync.Mutex
	byID map[int64]map[*restockWatcher]struct{} // business id →

	lastList    map[int64]time.Time // product id → when its last waitlist frame went out
	pendingList map[int64]bool      // product id → a coalesced frame is on its way
}

type restockWatcher struct {
	productID int64
	locale    string
	frames    chan []byte // the latest frames; a slow page drops the older
}

func (ws *restockWatchers) add(businessID int64, w *restockWatcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.byID == nil {
		ws.byID = map[int64]map[*restockWatcher]struct{}{}
	}
	if ws.byID[businessID] == nil {
		ws.byID[businessID] = map[*restockWatcher]struct{}{}
	}
	ws.byID[businessID][w] = struct{}{}
}

func (ws *restockWatchers) remove(businessID int64, w *restockWatcher) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(ws.byID[businessID], w)
}

func (ws *restockWatchers) watched(businessID int64) bool {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return len(ws.byID[businessID]) > 0
}

func (ws *restockWatchers) of(businessID, productID int64) []*restockWatcher {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	var out []*restockWatcher
	for w := range ws.byID[businessID] {
		if w.productID == productID {
			out = append(out, w)
		}
	}
	return out
}

// publishRestock renders a run's progress once per language for the pages
// watching its product.
func (s *Server) publishRestock(ctx context.Context, ev models.Event) {
	if !s.restockLive.watched(ev.BusinessID) {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	sums, err := s.store.RunSummaries(ctx, ev.BusinessID, []int64{ev.RunID})
	if err != nil || len(sums) == 0 {
		if err != nil {
			s.log.Error("live: unable to load restock run", "run", ev.RunID, "error", err)
		}
		return
	}
	rendered := map[string][]byte{}
	for _, w := range s.restockLive.of(ev.BusinessID, sums[0].ProductID) {
		frame, ok := rendered[w.locale]
		if !ok {
			var buf bytes.Buffer
			if err := views.RestockProgressOOB(sums[0]).Render(views.WithLocale(ctx, w.locale), &buf); err != nil {
				s.log.Error("live: unable to render restock progress", "error", err)
				return
			}
			frame, rendered[w.locale] = buf.Bytes(), buf.Bytes()
		}
		select {
		case w.frames <- frame:
		default: // the page is behind: it gets the next frame, which says more
		}
	}
	s.publishWaitlist(ev.BusinessID, sums[0].ProductID) // outcomes land in the list too
}

// productLive is the product page's socket for restock progress.
func (s *Server) productLive(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	p, ok := s.loadProduct(w, r)
	if !ok {
		return
	}
	conn, ok := s.upgrade(w, r)
	if !ok {
		return
	}
	watcher := &restockWatcher{productID: p.ID, locale: v.User.Locale, frames: make(chan []byte, 4)}
	s.restockLive.add(v.BusinessID, watcher)
	// A run that moved (or ended) between the page's render and this socket:
	// the page gets its latest state first.
	if runs, err := s.store.ProductRuns(r.Context(), v.BusinessID, p.ID, 1); err == nil && len(runs) == 1 {
		var buf bytes.Buffer
		if views.RestockProgressOOB(runs[0]).Render(views.WithLocale(r.Context(), v.User.Locale), &buf) == nil {
			watcher.frames <- buf.Bytes()
		}
	}
	servePageSocket(conn, watcher.frames, func() { s.restockLive.remove(v.BusinessID, watcher) })
}
