package pii

import (
	"strings"
	"testing"
)

func TestSealOpenRotate(t *testing.T) {
	old, hk := NewKeySpec("k1")
	b1, err := ParseKeys(old, hk)
	if err != nil {
		t.Fatal(err)
	}
	sealed := b1.Seal("13800001234")
	if strings.Contains(sealed, "13800001234") || KeyID(sealed) != "k1" {
		t.Fatalf("sealed value leaks or lacks key id: %q", sealed)
	}
	if b1.Seal("13800001234") == sealed {
		t.Fatal("two seals of one value are equal: nonce reused")
	}
	newer, _ := NewKeySpec("k2")
	b2, err := ParseKeys(newer+","+old, hk)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b2.Open(sealed); err != nil || got != "13800001234" {
		t.Fatalf("old value after rotation: %q %v", got, err)
	}
	if KeyID(b2.Seal("x")) != "k2" {
		t.Fatal("rotation: new values must use the first key")
	}
	if b1.Hash("phone", " 13800001234") != b2.Hash("phone", "13800001234") {
		t.Fatal("hash must survive encryption-key rotation and normalise spaces")
	}
	if b1.Hash("phone", "1") == b1.Hash("id", "1") {
		t.Fatal("hash kinds must differ")
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if _, err := b1.Open(tampered); err == nil {
		t.Fatal("tampered value opened")
	}
	if _, err := ParseKeys("", hk); err == nil {
		t.Fatal("no keys accepted")
	}
	if _, err := ParseKeys("k1:short", hk); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestMasks(t *testing.T) {
	for _, c := range []struct {
		f        func(string) string
		in, want string
	}{
		{MaskName, "张三", "张*"}, {MaskName, "欧阳修", "欧**"}, {MaskName, "", ""}, {MaskName, "王", "*"},
		{MaskPhone, "13800000000", "138****0000"}, {MaskPhone, "12345", "*****"}, {MaskPhone, "", ""},
		{MaskID, "440304199001011234", "4403**********1234"}, {MaskID, "1234", "****"},
	} {
		if got := c.f(c.in); got != c.want {
			t.Errorf("mask(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
