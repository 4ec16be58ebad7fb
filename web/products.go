package web

import (
	"net/http"

	"github.com/switchboard-inbox/switchboard/views"
)

// productsPage is the staff's list of products (restock comes later).
func (s *Server) productsPage(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	ps, err := s.store.Products(r.Context(), v.BusinessID, 500)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, views.Products(views.ProductsView{Page: s.page(r, views.T(r.Context(), "nav.products"), "products"), Products: ps}))
}
