package web

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboard-inbox/switchboard/models"
	"github.com/switchboard-inbox/switchboard/views"
)

// productsNotice is the session key of the products pages' one-time notice.
const productsNotice = "products_notice"

// productsPage is the staff's list of products with their waitlists.
func (s *Server) productsPage(w http.ResponseWriter, r *http.Request) {
	v := s.productsView(w, r)
	if v == nil {
		return
	}
	v.Notice = s.sessions.PopString(r.Context(), productsNotice)
	s.render(w, r, http.StatusOK, views.Products(*v))
}

func (s *Server) productsView(w http.ResponseWriter, r *http.Request) *views.ProductsView {
	ps, err := s.store.ProductSummaries(r.Context(), viewerFrom(r.Context()).BusinessID, 500)
	if err != nil {
		s.serverError(w, r, err)
		return nil
	}
	return &views.ProductsView{Page: s.page(r, views.T(r.Context(), "nav.products"), "products"), Products: ps}
}

// productForm reads the add/edit form; the map re-fills it after an error.
func productForm(r *http.Request) (models.ProductInput, map[string]string) {
	f := map[string]string{}
	for _, k := range []string{"sku", "name", "stock", "url", "image_url", "template_name", "template_language"} {
		f[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	in := models.ProductInput{SKU: f["sku"], Name: f["name"], URL: f["url"], ImageURL: f["image_url"],
		WATemplateName: f["template_name"], WATemplateLanguage: f["template_language"]}
	return in, f
}

// productCreate adds a product; a bad field re-renders the form with its message.
func (s *Server) productCreate(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	in, f := productForm(r)
	stock := 0
	if f["stock"] != "" {
		n, err := strconv.Atoi(f["stock"])
		if err != nil || n < 0 {
			s.productsFormError(w, r, f, views.T(r.Context(), "products.stock")+": "+views.T(r.Context(), "product.err.stock_number"))
			return
		}
		stock = n
	}
	p, err := s.store.CreateProduct(r.Context(), v.BusinessID, in)
	var fe *models.FieldError
	switch {
	case errors.As(err, &fe):
		s.productsFormError(w, r, f, fieldMessage(r.Context(), fe))
		return
	case errors.Is(err, models.ErrDuplicate):
		s.productsFormError(w, r, f, views.T(r.Context(), "product.err.duplicate", in.SKU))
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	if stock > 0 {
		if _, err := s.setStock(r, p.SKU, stock, &v.User.ID); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.sessions.Put(r.Context(), productsNotice, views.T(r.Context(), "products.created", p.SKU))
	http.Redirect(w, r, "/products", http.StatusSeeOther)
}

func (s *Server) productsFormError(w http.ResponseWriter, r *http.Request, f map[string]string, msg string) {
	pv := s.productsView(w, r)
	if pv == nil {
		return
	}
	pv.Form, pv.Error = f, msg
	s.render(w, r, http.StatusUnprocessableEntity, views.Products(*pv))
}

// productImport applies an uploaded or pasted CSV, all or nothing.
func (s *Server) productImport(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	r.Body = http.MaxBytesReader(w, r.Body, maxImportBody)
	var src io.Reader = strings.NewReader(r.FormValue("csv_text"))
	if file, _, err := r.FormFile("csv"); err == nil {
		defer file.Close()
		src = file
	}
	rows, errs := parseProductCSV(src)
	if len(errs) == 0 && s.restock == nil {
		s.serverError(w, r, errNoRestock)
		return
	}
	if len(errs) == 0 {
		res, err := s.restock.Import(r.Context(), v.BusinessID, rows, &v.User.ID)
		if err != nil {
			var fe *models.FieldError
			if !errors.As(err, &fe) && !errors.Is(err, models.ErrDuplicate) {
				s.serverError(w, r, err)
				return
			}
			errs = append(errs, LineError{0, err.Error()})
		} else {
			s.sessions.Put(r.Context(), productsNotice, views.T(r.Context(), "products.imported", res.Created, res.Updated))
			http.Redirect(w, r, "/products", http.StatusSeeOther)
			return
		}
	}
	pv := s.productsView(w, r)
	if pv == nil {
		return
	}
	pv.Form = map[string]string{"csv_text": r.FormValue("csv_text")}
	for _, e := range errs {
		pv.ImportErrors = append(pv.ImportErrors, views.ImportError{Line: e.Line, Message: e.Message})
	}
	s.render(w, r, http.StatusUnprocessableEntity, views.Products(*pv))
}

// loadProduct finds the path's product in the viewer's business, or answers 404.
func (s *Server) loadProduct(w http.ResponseWriter, r *http.Request) (*models.Product, bool) {
	p, err := s.store.Product(r.Context(), viewerFrom(r.Context()).BusinessID, r.PathValue("sku"))
	if err != nil || p == nil {
		s.notFoundOrError(w, r, err)
		return nil, false
	}
	return p, true
}

func productURL(sku string) string { return "/products/" + url.PathEscape(sku) }

// productStock sets the stock (stock=N) or moves it by one (delta=±1).
func (s *Server) productStock(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	p, ok := s.loadProduct(w, r)
	if !ok {
		return
	}
	stock := p.Stock
	switch d := r.PostFormValue("delta"); d {
	case "1":
		stock++
	case "-1":
		stock = max(0, stock-1)
	default:
		n, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("stock")))
		if err != nil || n < 0 {
			s.renderProduct(w, r, p, http.StatusUnprocessableEntity, views.T(r.Context(), "products.stock")+": a whole number, 0 or more", "")
			return
		}
		stock = n
	}
	ch, err := s.setStock(r, p.SKU, stock, &v.User.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	notice := views.T(r.Context(), "products.stock_set", stock)
	if ch.Run != nil {
		notice = views.T(r.Context(), "restock.started_notice", ch.Run.Planned)
	}
	s.sessions.Put(r.Context(), productsNotice, notice)
	back := "/products"
	if r.PostFormValue("back") == "product" {
		back = productURL(p.SKU)
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// productEdit saves the details form of the product page.
func (s *Server) productEdit(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	p, ok := s.loadProduct(w, r)
	if !ok {
		return
	}
	in, _ := productForm(r)
	_, err := s.store.UpdateProduct(r.Context(), v.BusinessID, p.SKU, in)
	var fe *models.FieldError
	switch {
	case errors.As(err, &fe):
		s.renderProduct(w, r, p, http.StatusUnprocessableEntity, fieldMessage(r.Context(), fe), "")
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	s.sessions.Put(r.Context(), productsNotice, views.T(r.Context(), "products.saved"))
	http.Redirect(w, r, productURL(p.SKU), http.StatusSeeOther)
}

// productRerun notifies the entries that became notifiable since the last run.
func (s *Server) productRerun(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	p, ok := s.loadProduct(w, r)
	if !ok {
		return
	}
	if s.restock == nil {
		s.serverError(w, r, errNoRestock)
		return
	}
	run, err := s.restock.Rerun(r.Context(), v.BusinessID, p.SKU, &v.User.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	notice := views.T(r.Context(), "restock.nothing_to_do")
	if run != nil {
		notice = views.T(r.Context(), "restock.started_notice", run.Planned)
	}
	s.sessions.Put(r.Context(), productsNotice, notice)
	http.Redirect(w, r, productURL(p.SKU), http.StatusSeeOther)
}

// productPage shows one product: who waits, who can be told now and why not, the runs.
func (s *Server) productPage(w http.ResponseWriter, r *http.Request) {
	p, ok := s.loadProduct(w, r)
	if !ok {
		return
	}
	s.renderProduct(w, r, p, http.StatusOK, "", s.sessions.PopString(r.Context(), productsNotice))
}

func (s *Server) renderProduct(w http.ResponseWriter, r *http.Request, p *models.Product, status int, errMsg, notice string) {
	pv, err := s.productView(r, p)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	pv.Error, pv.Notice = errMsg, notice
	s.render(w, r, status, views.ProductPage(*pv))
}

// productSendAgain is the agent's "send again" for one entry's alert that
// failed or ended unknown (it may have reached Meta, so nothing resends it on
// its own): the outbox re-decides it and queues it once more.
func (s *Server) productSendAgain(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	p, ok := s.loadProduct(w, r)
	if !ok {
		return
	}
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	e, err := s.store.WaitlistEntryByID(r.Context(), v.BusinessID, p.ID, id)
	if err != nil || e == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	notice := views.T(r.Context(), "restock.sent_again")
	switch {
	case !e.CanSendAgain():
		notice = views.T(r.Context(), "restock.entry."+e.Status)
	case s.outbox == nil:
		notice = views.T(r.Context(), "composer.unavailable")
	default:
		if _, err := s.outbox.Retry(r.Context(), v.BusinessID, *e.MessageID); err != nil {
			key, ok := refusalKey(err)
			if !ok {
				s.serverError(w, r, err)
				return
			}
			notice = views.T(r.Context(), key)
		}
	}
	s.sessions.Put(r.Context(), productsNotice, notice)
	http.Redirect(w, r, productURL(p.SKU), http.StatusSeeOther)
}
