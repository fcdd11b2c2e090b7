package api

import (
	"bytes"
	"testing"
)

// TestPublicAnswers: an answer is served only under the stamp it was built at, a rebuilt one
// replaces it, and the bodies held stay within the budget (the page is anonymous: its keys
// are the public's to choose).
func TestPublicAnswers(t *testing.T) {
	p := publicAnswers{budget: 10}
	k := publicKey{"2026-11", ""}
	if _, ok := p.get(k, "1/1/0"); ok {
		t.Fatal("an answer before any was built")
	}
	p.put(k, publicAnswer{stamp: "1/1/0", body: []byte("aaaa"), signature: "s1"})
	if a, ok := p.get(k, "1/1/0"); !ok || string(a.body) != "aaaa" || a.signature != "s1" {
		t.Fatalf("kept answer: %+v %v", a, ok)
	}
	if _, ok := p.get(k, "2/2/0"); ok {
		t.Fatal("an answer served under a newer stamp (a new version published)")
	}
	p.put(k, publicAnswer{stamp: "2/2/0", body: []byte("bbbbb")})
	if a, ok := p.get(k, "2/2/0"); !ok || !bytes.Equal(a.body, []byte("bbbbb")) || p.size != 5 || len(p.entries) != 1 {
		t.Fatalf("rebuilt answer: %+v %v, size %d, %d entries", a, ok, p.size, len(p.entries))
	}
	other := publicKey{"2026-10", "sz"}
	p.put(other, publicAnswer{stamp: "1/3/7", body: []byte("cccccc")})
	if p.size > 10 || len(p.entries) != 1 {
		t.Fatalf("over the budget: size %d, %d entries", p.size, len(p.entries))
	}
	if _, ok := p.get(other, "1/3/7"); !ok {
		t.Fatal("the newest answer was dropped instead of an older one")
	}
	p.put(publicKey{"2026-09", ""}, publicAnswer{stamp: "x", body: make([]byte, 11)})
	if _, ok := p.get(publicKey{"2026-09", ""}, "x"); ok || p.size > 10 {
		t.Fatalf("an answer larger than the budget was kept (size %d)", p.size)
	}
	if p.builds != 4 {
		t.Fatalf("builds %d, want 4", p.builds)
	}
}
