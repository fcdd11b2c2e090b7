package signing

import (
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

func TestRoundTripBothSuites(t *testing.T) {
	for _, c := range []struct {
		gm  bool
		alg string
	}{{true, AlgSM2}, {false, AlgECDSA}} {
		s, p, err := Generate(c.gm)
		if err != nil {
			t.Fatal(err)
		}
		if s.Algorithm() != c.alg {
			t.Fatalf("alg %s, want %s", s.Algorithm(), c.alg)
		}
		again, err := Parse(p)
		if err != nil || again.Key() != s.Key() {
			t.Fatalf("parse of generated PEM: %v %+v", err, again)
		}
		msg := []byte(`{"month":"2026-10"}`)
		h, err := s.HeaderValue(msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyHeader(s.Key().PublicKey, h, msg); err != nil {
			t.Fatalf("%s: own signature: %v", c.alg, err)
		}
		if err := VerifyHeader(s.Key().PublicKey, h, []byte(`{"month":"2026-11"}`)); err == nil {
			t.Fatalf("%s: signature verifies over changed bytes", c.alg)
		}
		other, _, _ := Generate(c.gm)
		if err := VerifyHeader(other.Key().PublicKey, h, msg); err == nil {
			t.Fatalf("%s: signature verifies with another key", c.alg)
		}
	}
}

// TestSM2StandardVector verifies the signature example of GM/T 0003.5-2012 / GB/T 32918.5
// (recommended curve): the public key of d = 3945208F…, message "message digest", user id
// 1234567812345678, signature (r, s) = (F5A03B06…, B1B6AA29…). It proves the verifier speaks
// the standard and not only its own dialect.
func TestSM2StandardVector(t *testing.T) {
	d, _ := hex.DecodeString("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
	priv, err := sm2.NewPrivateKey(d)
	if err != nil {
		t.Fatal(err)
	}
	wantX := "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
	wantY := "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
	if got := strings.ToUpper(hex.EncodeToString(priv.X.FillBytes(make([]byte, 32)))); got != wantX {
		t.Fatalf("public x = %s, want %s", got, wantX)
	}
	if got := strings.ToUpper(hex.EncodeToString(priv.Y.FillBytes(make([]byte, 32)))); got != wantY {
		t.Fatalf("public y = %s", got)
	}
	r, _ := new(big.Int).SetString("F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3", 16)
	s, _ := new(big.Int).SetString("B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA", 16)
	var b cryptobyte.Builder
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1BigInt(r); b.AddASN1BigInt(s) })
	sig := b.BytesOrPanic()
	der, err := smx509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	if err := Verify(pubPEM, []byte("message digest"), sig); err != nil {
		t.Fatalf("standard vector: %v", err)
	}
	if err := Verify(pubPEM, []byte("message digesT"), sig); err == nil {
		t.Fatal("standard signature verifies over another message")
	}
	// The same key as a signer verifies under the same public key document.
	pkcs8, _ := smx509.MarshalPKCS8PrivateKey(priv)
	signer, err := Parse(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})))
	if err != nil || signer.Key().PublicKey != pubPEM || signer.Key().UID != "1234567812345678" {
		t.Fatalf("signer from the standard key: %v %+v", err, signer.Key())
	}
}
