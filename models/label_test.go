package models_test

import (
	"context"
	"testing"

	"github.com/switchboard-inbox/switchboard/models/modelstest"
)

// A label's colour is set only through its own business.
func TestSetLabelColorScopedToBusiness(t *testing.T) {
	s := modelstest.NewStore(t)
	ctx := context.Background()
	a := newFixture(t, s, "A", "messenger", "page-a")
	b := newFixture(t, s, "B", "messenger", "page-b")
	l, err := s.CreateLabel(ctx, a.biz.ID, "vip")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetLabelColor(ctx, a.biz.ID, l.ID, "#b45309"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetLabelColor(ctx, b.biz.ID, l.ID, "#000000"); err != nil { // another business's label: no change
		t.Fatal(err)
	}
	ls, err := s.Labels(ctx, a.biz.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 1 || ls[0].Color != "#b45309" {
		t.Fatalf("labels of A = %+v, want vip coloured #b45309", ls)
	}
}
