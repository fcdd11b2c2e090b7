package pii

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
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

// TestGMStandardVectors checks the primitives of the gm suite against the standards' own
// examples: SM3 of "abc" (GB/T 32905-2016 A.1) and SM4 encryption of the GB/T 32907-2016
// example (key = plaintext = 0123456789ABCDEFFEDCBA9876543210).
func TestGMStandardVectors(t *testing.T) {
	if got := hex.EncodeToString(sm3Sum([]byte("abc"))); got != "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0" {
		t.Fatalf("SM3(abc) = %s", got)
	}
	k, _ := hex.DecodeString("0123456789ABCDEFFEDCBA9876543210")
	blk, err := sm4.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 16)
	blk.Encrypt(out, k)
	if got := strings.ToUpper(hex.EncodeToString(out)); got != "681EDF34D206965E86B3E94F536E4246" {
		t.Fatalf("SM4 example = %s", got)
	}
	// The box's hash under gm is HMAC-SM3 with the configured key (RFC 2104 over SM3).
	spec, hk := NewSuiteKeySpec(SuiteGM, "g1")
	b, err := New(SuiteGM, spec, hk)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(hk)
	m := hmac.New(sm3.New, raw)
	m.Write([]byte("phone\x0013800001234"))
	if got := b.Hash("phone", "13800001234"); got != hex.EncodeToString(m.Sum(nil)) {
		t.Fatalf("gm hash is not HMAC-SM3: %s", got)
	}
	a, _ := New(SuiteAES, "a1:"+base64.StdEncoding.EncodeToString(make([]byte, 32)), hk)
	if a.Hash("phone", "13800001234") == b.Hash("phone", "13800001234") {
		t.Fatal("aes and gm hashes agree: the suite does not pick the hash")
	}
}

// TestSM4SealAndCrossSuiteRotation seals under SM4-GCM and shows that a box holding keys of
// both suites opens values of either, seals with the first, and that the first key must belong
// to the configured suite.
func TestSM4SealAndCrossSuiteRotation(t *testing.T) {
	aesSpec, hk := NewKeySpec("a1")
	gmSpec, _ := NewSuiteKeySpec(SuiteGM, "g1")
	if !strings.Contains(gmSpec, ":sm4:") {
		t.Fatalf("gm spec %q", gmSpec)
	}
	oldBox, err := ParseKeys(aesSpec, hk)
	if err != nil {
		t.Fatal(err)
	}
	old := oldBox.Seal("440304199001011234")
	both, err := New(SuiteGM, gmSpec+","+aesSpec, hk)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := both.Open(old); err != nil || got != "440304199001011234" {
		t.Fatalf("aes value under gm box: %q %v", got, err)
	}
	sealed := both.Seal("440304199001011234")
	if KeyID(sealed) != "g1" {
		t.Fatalf("gm box sealed with %q", KeyID(sealed))
	}
	kid, aead := both.Current()
	if kid != "g1" || aead.NonceSize() != 12 || aead.Overhead() != 16 {
		t.Fatalf("current AEAD %s %d %d", kid, aead.NonceSize(), aead.Overhead())
	}
	gmOnly, _ := New(SuiteGM, gmSpec, hk)
	if got, err := gmOnly.Open(sealed); err != nil || got != "440304199001011234" {
		t.Fatalf("sm4 open: %q %v", got, err)
	}
	if _, err := gmOnly.Open(sealed[:len(sealed)-2] + "AA"); err == nil {
		t.Fatal("tampered sm4 value opened")
	}
	// Back again: an AES box holding the gm key opens SM4 values.
	back, err := New(SuiteAES, aesSpec+","+gmSpec, hk)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := back.Open(sealed); err != nil || got != "440304199001011234" {
		t.Fatalf("sm4 value under aes box: %q %v", got, err)
	}
	if _, err := New(SuiteGM, aesSpec+","+gmSpec, hk); err == nil {
		t.Fatal("gm suite accepted an AES key first")
	}
	if _, err := New(SuiteAES, gmSpec, hk); err == nil {
		t.Fatal("aes suite accepted an SM4 key first")
	}
	if _, err := New(SuiteGM, "g1:sm4:"+base64.StdEncoding.EncodeToString(make([]byte, 32)), hk); err == nil {
		t.Fatal("32-byte sm4 key accepted")
	}
	if _, err := New(SuiteGM, "g1:des:"+base64.StdEncoding.EncodeToString(make([]byte, 16)), hk); err == nil {
		t.Fatal("unknown algorithm accepted")
	}
	for in, want := range map[string]Suite{"": SuiteAES, "aes": SuiteAES, "GM": SuiteGM} {
		if got, err := ParseSuite(in); err != nil || got != want {
			t.Fatalf("ParseSuite(%q) = %q %v", in, got, err)
		}
	}
	if _, err := ParseSuite("des"); err == nil {
		t.Fatal("ParseSuite accepted des")
	}
}

func sm3Sum(b []byte) []byte { d := sm3.Sum(b); return d[:] }
