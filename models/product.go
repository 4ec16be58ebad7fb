package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// Product is something a store sells and can run out of.
type Product struct {
	ID                 int64     `json:"-"`
	BusinessID         int64     `json:"-"`
	SKU                string    `gorm:"column:sku" json:"sku"`
	Name               string    `json:"name"`
	URL                string    `json:"url"`
	ImageURL           string    `json:"image_url"`
	Stock              int       `json:"stock"`
	WATemplateName     string    `gorm:"column:wa_template_name" json:"-"`
	WATemplateLanguage string    `gorm:"column:wa_template_language" json:"-"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// ProductInput is what staff supply for a product. In an import, a row
// without the optional columns keeps the product's URL and image (HasURL…).
type ProductInput struct {
	SKU, Name, URL, ImageURL           string
	Stock                              int
	WATemplateName, WATemplateLanguage string
	HasURL, HasImageURL                bool
}

// FieldError names the input field a message is about.
type FieldError struct {
	Field, Message string
	// Key and Args word the message in the reader's language (a views
	// catalogue key and its arguments), where the error has them.
	Key  string
	Args []any
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// Validate checks a new or edited product; the error is a *FieldError.
func (in *ProductInput) Validate() error {
	in.SKU, in.Name = strings.TrimSpace(in.SKU), strings.TrimSpace(in.Name)
	in.URL, in.ImageURL = strings.TrimSpace(in.URL), strings.TrimSpace(in.ImageURL)
	switch {
	case in.SKU == "" || len(in.SKU) > 64 || strings.ContainsAny(in.SKU, " \t\r\n,/"):
		return &FieldError{Key: "product.err.sku", Field: "sku", Message: "a SKU is 1 to 64 characters without spaces, commas or slashes"}
	case in.Name == "" || len([]rune(in.Name)) > 200:
		return &FieldError{Key: "product.err.name", Field: "name", Message: "a name is 1 to 200 characters"}
	case in.Stock < 0:
		return &FieldError{Key: "product.err.stock", Field: "stock", Message: "stock cannot be negative"}
	case in.URL != "" && !httpURL(in.URL):
		return &FieldError{Key: "product.err.url", Field: "url", Message: "the URL must start with http:// or https://"}
	case in.ImageURL != "" && !httpURL(in.ImageURL):
		return &FieldError{Key: "product.err.image_url", Field: "image_url", Message: "the image URL must start with http:// or https://"}
	case (in.WATemplateName == "") != (in.WATemplateLanguage == ""):
		return &FieldError{Key: "product.err.template", Field: "whatsapp_template", Message: "a template needs both a name and a language"}
	}
	return nil
}

func httpURL(u string) bool {
	return (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) && len(u) > len("https://") && !strings.ContainsAny(u, " \"<>")
}

// CreateProduct adds a product; ErrDuplicate when the business has the SKU.
func (s *Store) CreateProduct(ctx context.Context, businessID int64, in ProductInput) (*Product, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	p := &Product{BusinessID: businessID, SKU: in.SKU, Name: in.Name, URL: in.URL, ImageURL: in.ImageURL, Stock: in.Stock,
		WATemplateName: in.WATemplateName, WATemplateLanguage: in.WATemplateLanguage}
	res := s.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(p)
	if res.Error != nil {
		return nil, wrapErr(res.Error, "create product %s", in.SKU)
	}
	if res.RowsAffected == 0 {
		return nil, ErrDuplicate
	}
	return p, nil
}

// Product loads one of the business's products by SKU; nil when it has none.
func (s *Store) Product(ctx context.Context, businessID int64, sku string) (*Product, error) {
	var p Product
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND sku = ?", businessID, sku), &p)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch product %s", sku)
	}
	return &p, nil
}

// ProductByID loads one of the business's products; nil when it has none.
func (s *Store) ProductByID(ctx context.Context, businessID, id int64) (*Product, error) {
	var p Product
	ok, err := first(s.Gorm(ctx).Where("business_id = ? AND id = ?", businessID, id), &p)
	if err != nil || !ok {
		return nil, wrapErr(err, "fetch product %d", id)
	}
	return &p, nil
}

// lockProduct loads a product FOR UPDATE, so stock changes of one product
// happen one at a time (inside InTx).
func (s *Store) lockProduct(ctx context.Context, businessID int64, sku string) (*Product, error) {
	var p Product
	ok, err := first(s.Gorm(ctx).Clauses(clause.Locking{Strength: "UPDATE"}).Where("business_id = ? AND sku = ?", businessID, sku), &p)
	if err != nil || !ok {
		return nil, wrapErr(err, "lock product %s", sku)
	}
	return &p, nil
}

// ProductSummary is a product with how many customers wait for it, per app.
type ProductSummary struct {
	Product
	Waiting map[string]int `gorm:"-" json:"waiting"`
}

// ProductSummaries lists the business's products by name with their waitlist counts.
func (s *Store) ProductSummaries(ctx context.Context, businessID int64, limit int) ([]ProductSummary, error) {
	var ps []Product
	if err := s.Gorm(ctx).Where("business_id = ?", businessID).Order("name, id").Limit(limit).Find(&ps).Error; err != nil {
		return nil, wrapErr(err, "list products")
	}
	var counts []struct {
		ProductID int64
		App       string
		N         int
	}
	err := s.Gorm(ctx).Raw(`SELECT w.product_id, i.app, count(*) AS n FROM restock_waitlist w
		JOIN identities i ON i.id = w.identity_id
		WHERE w.business_id = ? AND w.status IN ('waiting', 'skipped') GROUP BY 1, 2`, businessID).Scan(&counts).Error
	if err != nil {
		return nil, wrapErr(err, "count waitlists")
	}
	out := make([]ProductSummary, len(ps))
	index := map[int64]int{}
	for i := range ps {
		out[i] = ProductSummary{Product: ps[i], Waiting: map[string]int{AppMessenger: 0, AppInstagram: 0, AppWhatsApp: 0}}
		index[ps[i].ID] = i
	}
	for _, c := range counts {
		if i, ok := index[c.ProductID]; ok {
			out[i].Waiting[c.App] = c.N
		}
	}
	return out, nil
}

// UpdateProduct changes a product's details (not its stock: see SetStock).
func (s *Store) UpdateProduct(ctx context.Context, businessID int64, sku string, in ProductInput) (*Product, error) {
	in.SKU = sku
	if err := in.Validate(); err != nil {
		return nil, err
	}
	res := s.Gorm(ctx).Model(&Product{}).Where("business_id = ? AND sku = ?", businessID, sku).Updates(map[string]any{
		"name": in.Name, "url": in.URL, "image_url": in.ImageURL,
		"wa_template_name": in.WATemplateName, "wa_template_language": in.WATemplateLanguage, "updated_at": time.Now(),
	})
	if res.Error != nil {
		return nil, wrapErr(res.Error, "update product %s", sku)
	}
	if res.RowsAffected == 0 {
		return nil, ErrNotFound
	}
	return s.Product(ctx, businessID, sku)
}

// StockChange is what one stock change did.
type StockChange struct {
	Product *Product
	Before  int
	Run     *RestockRun // the restock run the change from 0 started, if anyone waits
}

// SetStock is the one way stock changes: it locks the product, sets its stock
// and, when it goes from 0 to more, starts a restock run for the customers
// waiting (at most as many as the units back). Call it inside InTx, and queue
// the run's job in the same transaction.
func (s *Store) SetStock(ctx context.Context, businessID int64, sku string, stock int, by *int64) (*StockChange, error) {
	if stock < 0 {
		return nil, &FieldError{Key: "product.err.stock", Field: "stock", Message: "stock cannot be negative"}
	}
	p, err := s.lockProduct(ctx, businessID, sku)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, ErrNotFound
	}
	ch := &StockChange{Product: p, Before: p.Stock}
	if err := s.Gorm(ctx).Model(p).Updates(map[string]any{"stock": stock, "updated_at": time.Now()}).Error; err != nil {
		return nil, wrapErr(err, "set stock of %s", sku)
	}
	p.Stock = stock
	if ch.Before == 0 && stock > 0 {
		if ch.Run, err = s.startRun(ctx, p, stock, "stock", by); err != nil {
			return nil, err
		}
	}
	return ch, nil
}

// ImportRow is one line of a product CSV.
type ImportRow struct {
	Line  int
	Input ProductInput
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created, Updated int
	Changes          []*StockChange // every stock change, with the runs they started
}

// ImportProducts creates or updates every row, all or nothing (inside InTx):
// a new SKU is created, a known one gets the row's details and stock.
func (s *Store) ImportProducts(ctx context.Context, businessID int64, rows []ImportRow, by *int64) (*ImportResult, error) {
	res := &ImportResult{}
	for _, r := range rows {
		in := r.Input
		existing, err := s.Product(ctx, businessID, in.SKU)
		if err != nil {
			return nil, err
		}
		if existing == nil {
			stock := in.Stock
			in.Stock = 0
			if _, err := s.CreateProduct(ctx, businessID, in); err != nil {
				return nil, fmt.Errorf("line %d: %w", r.Line, err)
			}
			res.Created++
			if stock == 0 {
				continue
			}
			in.Stock = stock
		} else {
			if !in.HasURL {
				in.URL = existing.URL
			}
			if !in.HasImageURL {
				in.ImageURL = existing.ImageURL
			}
			in.WATemplateName, in.WATemplateLanguage = existing.WATemplateName, existing.WATemplateLanguage
			if _, err := s.UpdateProduct(ctx, businessID, in.SKU, in); err != nil {
				return nil, fmt.Errorf("line %d: %w", r.Line, err)
			}
			res.Updated++
			if existing.Stock == in.Stock {
				continue
			}
		}
		ch, err := s.SetStock(ctx, businessID, in.SKU, in.Stock, by)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", r.Line, err)
		}
		res.Changes = append(res.Changes, ch)
	}
	return res, nil
}

// Products lists a business's products by name.
func (s *Store) Products(ctx context.Context, businessID int64, limit int) ([]Product, error) {
	var ps []Product
	err := s.Gorm(ctx).Where("business_id = ?", businessID).Order("name, id").Limit(limit).Find(&ps).Error
	return ps, wrapErr(err, "list products")
}

const productColumns = `p.id, p.business_id, p.sku, p.name, p.url, p.image_url, p.stock, p.wa_template_name,
	p.wa_template_language, p.created_at, p.updated_at`
