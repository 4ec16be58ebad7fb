package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/switchboard-inbox/switchboard/models"
)

// maxImportBody caps a product CSV (10,000 lines of a few hundred bytes).
const maxImportBody = 4 << 20

// productRoutes registers the restock API (contract, part 2).
func (s *Server) productRoutes(mux *http.ServeMux) {
	api := func(h http.HandlerFunc) http.Handler { return s.requireToken(h) }
	mux.Handle("POST /api/v1/products", api(s.apiProductCreate))
	mux.Handle("GET /api/v1/products", api(s.apiProducts))
	mux.Handle("POST /api/v1/products/import", api(s.apiProductImport))
	mux.Handle("PATCH /api/v1/products/{sku}", api(s.apiProductPatch))
	mux.Handle("GET /api/v1/products/{sku}/waitlist", api(s.apiWaitlist))
	mux.Handle("POST /api/v1/products/{sku}/waitlist", api(s.apiWaitlistAdd))
	mux.Handle("GET /api/v1/restocks/{id}", api(s.apiRestock))
}

type apiTemplateRef struct {
	Name     string `json:"name"`
	Language string `json:"language"`
}

// apiProduct is the contract's Product.
type apiProduct struct {
	SKU              string          `json:"sku"`
	Name             string          `json:"name"`
	Stock            int             `json:"stock"`
	URL              string          `json:"url"`
	ImageURL         string          `json:"image_url"`
	WhatsAppTemplate *apiTemplateRef `json:"whatsapp_template"`
	Waiting          map[string]int  `json:"waiting,omitempty"`
	RestockID        *int64          `json:"restock_id,omitempty"`
}

func productJSON(p *models.Product, waiting map[string]int) apiProduct {
	out := apiProduct{SKU: p.SKU, Name: p.Name, Stock: p.Stock, URL: p.URL, ImageURL: p.ImageURL, Waiting: waiting}
	if p.WATemplateName != "" {
		out.WhatsAppTemplate = &apiTemplateRef{Name: p.WATemplateName, Language: p.WATemplateLanguage}
	}
	return out
}

// decodeObject reads a JSON object into fields, keeping each raw.
func decodeObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, bool) {
	var body map[string]json.RawMessage
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSendBody))
	if err := dec.Decode(&body); err != nil || dec.Decode(&struct{}{}) != io.EOF || body == nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_request", "the body must be one JSON object")
		return nil, false
	}
	return body, true
}

// stockField reads a whole, non-negative stock; msg explains a bad one.
func stockField(raw json.RawMessage) (int, string) {
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 32)
	switch {
	case err != nil:
		return 0, "stock must be a whole number"
	case n < 0:
		return 0, "stock cannot be negative"
	}
	return int(n), ""
}

// productInput fills in from the body's fields; field names the bad one.
func productInput(body map[string]json.RawMessage, in *models.ProductInput) (field, msg string) {
	for key, dst := range map[string]*string{"sku": &in.SKU, "name": &in.Name, "url": &in.URL, "image_url": &in.ImageURL} {
		if raw, ok := body[key]; ok && json.Unmarshal(raw, dst) != nil {
			return key, key + " must be a string"
		}
	}
	if raw, ok := body["stock"]; ok {
		if in.Stock, msg = stockField(raw); msg != "" {
			return "stock", msg
		}
	}
	if raw, ok := body["whatsapp_template"]; ok && string(raw) != "null" {
		var t apiTemplateRef
		if json.Unmarshal(raw, &t) != nil {
			return "whatsapp_template", "whatsapp_template must be {\"name\",\"language\"}"
		}
		in.WATemplateName, in.WATemplateLanguage = t.Name, t.Language
	}
	return "", ""
}

func (s *Server) apiProductCreate(w http.ResponseWriter, r *http.Request) {
	body, ok := decodeObject(w, r)
	if !ok {
		return
	}
	var in models.ProductInput
	if field, msg := productInput(body, &in); field != "" {
		writeFieldError(w, field, "invalid", msg)
		return
	}
	stock := in.Stock
	in.Stock = 0 // created out of stock, then set: the one way stock changes
	p, err := s.store.CreateProduct(r.Context(), apiBusiness(r.Context()), in)
	if s.productError(w, r, err) {
		return
	}
	out := productJSON(p, nil)
	if stock != 0 {
		ch, err := s.setStock(r, p.SKU, stock, nil)
		if s.productError(w, r, err) {
			return
		}
		out = productJSON(ch.Product, nil)
	}
	writeJSON(w, http.StatusCreated, out)
}

// setStock changes stock through the restock runner.
func (s *Server) setStock(r *http.Request, sku string, stock int, by *int64) (*models.StockChange, error) {
	if s.restock == nil {
		return nil, errNoRestock
	}
	biz := apiBusiness(r.Context())
	if v := viewerFrom(r.Context()); v != nil {
		biz = v.BusinessID
	}
	return s.restock.SetStock(r.Context(), biz, sku, stock, by)
}

var errNoRestock = errors.New("web: restock is not configured on this server")

// productError answers a store error in the contract's terms; false when err is nil.
func (s *Server) productError(w http.ResponseWriter, r *http.Request, err error) bool {
	var fe *models.FieldError
	switch {
	case err == nil:
		return false
	case errors.As(err, &fe):
		writeFieldError(w, fe.Field, "invalid", fe.Message)
	case errors.Is(err, models.ErrDuplicate):
		writeJSONError(w, http.StatusConflict, "duplicate", "a product with this SKU already exists")
	case errors.Is(err, models.ErrNotFound):
		s.notFound(w, r)
	case errors.Is(err, errNoRestock):
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
	default:
		s.serverError(w, r, err)
	}
	return true
}

func (s *Server) apiProducts(w http.ResponseWriter, r *http.Request) {
	ps, err := s.store.ProductSummaries(r.Context(), apiBusiness(r.Context()), 10000)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	out := make([]apiProduct, len(ps))
	for i := range ps {
		out[i] = productJSON(&ps[i].Product, ps[i].Waiting)
	}
	writeJSON(w, http.StatusOK, map[string]any{"products": out})
}

// apiProductPatch edits a product; {"stock":N} alone is the usual call.
func (s *Server) apiProductPatch(w http.ResponseWriter, r *http.Request) {
	biz := apiBusiness(r.Context())
	p, err := s.store.Product(r.Context(), biz, r.PathValue("sku"))
	if err != nil || p == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	body, ok := decodeObject(w, r)
	if !ok {
		return
	}
	in := models.ProductInput{SKU: p.SKU, Name: p.Name, URL: p.URL, ImageURL: p.ImageURL, Stock: p.Stock,
		WATemplateName: p.WATemplateName, WATemplateLanguage: p.WATemplateLanguage}
	if field, msg := productInput(body, &in); field != "" {
		writeFieldError(w, field, "invalid", msg)
		return
	}
	if in.SKU != p.SKU {
		writeFieldError(w, "sku", "invalid", "a product's SKU cannot change")
		return
	}
	if len(body) > 1 || body["stock"] == nil {
		if p, err = s.store.UpdateProduct(r.Context(), biz, p.SKU, in); s.productError(w, r, err) {
			return
		}
	}
	out := productJSON(p, nil)
	if _, ok := body["stock"]; ok {
		ch, err := s.setStock(r, p.SKU, in.Stock, nil)
		if s.productError(w, r, err) {
			return
		}
		out = productJSON(ch.Product, nil)
		if ch.Run != nil {
			out.RestockID = &ch.Run.ID
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiProductImport(w http.ResponseWriter, r *http.Request) {
	if s.restock == nil {
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", errNoRestock.Error())
		return
	}
	rows, errs := parseProductCSV(http.MaxBytesReader(w, r.Body, maxImportBody))
	if len(errs) > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"created": 0, "updated": 0, "restock_ids": []int64{}, "errors": errs})
		return
	}
	res, err := s.restock.Import(r.Context(), apiBusiness(r.Context()), rows, nil)
	if s.productError(w, r, err) {
		return
	}
	writeJSON(w, http.StatusOK, importJSON(res))
}

func importJSON(res *models.ImportResult) map[string]any {
	ids := []int64{}
	for _, c := range res.Changes {
		if c.Run != nil {
			ids = append(ids, c.Run.ID)
		}
	}
	return map[string]any{"created": res.Created, "updated": res.Updated, "restock_ids": ids, "errors": []LineError{}}
}

func (s *Server) apiWaitlist(w http.ResponseWriter, r *http.Request) {
	biz := apiBusiness(r.Context())
	p, err := s.store.Product(r.Context(), biz, r.PathValue("sku"))
	if err != nil || p == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	es, err := s.store.Waitlist(r.Context(), biz, p.ID, 100000)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if es == nil {
		es = []models.WaitlistEntry{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": es})
}

// apiWaitlistAdd signs a customer up by hand: 201, 409 when already waiting,
// 404 for an identity of another business.
func (s *Server) apiWaitlistAdd(w http.ResponseWriter, r *http.Request) {
	biz := apiBusiness(r.Context())
	p, err := s.store.Product(r.Context(), biz, r.PathValue("sku"))
	if err != nil || p == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	var body struct {
		IdentityID int64 `json:"identity_id"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSendBody))
	if err := dec.Decode(&body); err != nil || body.IdentityID <= 0 {
		writeFieldError(w, "identity_id", "invalid", "identity_id must be an identity's id")
		return
	}
	e, created, err := s.store.JoinWaitlist(r.Context(), models.Join{BusinessID: biz, ProductID: p.ID, IdentityID: body.IdentityID, Source: "staff"})
	if s.productError(w, r, err) {
		return
	}
	if !created {
		writeJSONError(w, http.StatusConflict, "duplicate", "this customer is already waiting for the product")
		return
	}
	entry, err := s.store.WaitlistEntryByID(r.Context(), biz, p.ID, e.ID)
	if err != nil || entry == nil {
		s.notFoundOrError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, entry)
}

func (s *Server) apiRestock(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(r, "id")
	if !ok {
		s.notFound(w, r)
		return
	}
	sums, err := s.store.RunSummaries(r.Context(), apiBusiness(r.Context()), []int64{id})
	if err != nil || len(sums) == 0 {
		s.notFoundOrError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sums[0])
}
