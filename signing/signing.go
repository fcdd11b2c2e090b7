// Package signing signs what Redress publishes and pushes, so that anyone holding the served
// public key can check that a publication or an upstream message came from this deployment
// unchanged. Under REDRESS_CRYPTO=gm the key is SM2 (GB/T 32918.2, with SM3 and the default
// user id 1234567812345678); otherwise ECDSA P-256 with SHA-256. Signatures are ASN.1 DER
// over the exact bytes sent (the HTTP body), carried in a header, so a verifier needs no
// canonical form.
package signing

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// Algorithms as named in the signature header and the key document.
const (
	AlgSM2   = "SM2-SM3"
	AlgECDSA = "ECDSA-P256-SHA256"
)

// Header carries the signature of a response or request body:
// "alg=SM2-SM3; kid=…; sig=base64(DER)".
const Header = "X-Redress-Body-Signature"

// UID is the SM2 signer identity (GB/T 35276 default), part of the signed hash Z_A.
var UID = []byte("1234567812345678")

// Signer holds one private key.
type Signer struct {
	alg    string
	sm2Key *sm2.PrivateKey
	ecKey  *ecdsa.PrivateKey
	pubDER []byte
	kid    string
}

// Key is the public document a verifier needs (GET /api/v1/public/signing-key).
type Key struct {
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key_pem"`
	// UID is the SM2 user id (only for SM2).
	UID    string `json:"uid,omitempty"`
	Header string `json:"header"`
}

// Generate makes a new key: SM2 when gm, else ECDSA P-256; it answers the signer and its
// PKCS #8 PEM (for REDRESS_SIGNING_KEY or the dev data directory).
func Generate(gm bool) (*Signer, string, error) {
	var priv any
	if gm {
		k, err := sm2.GenerateKey(rand.Reader)
		if err != nil {
			return nil, "", fmt.Errorf("signing: generate sm2: %w", err)
		}
		priv = k
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, "", fmt.Errorf("signing: generate ecdsa: %w", err)
		}
		priv = k
	}
	der, err := smx509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, "", fmt.Errorf("signing: marshal key: %w", err)
	}
	p := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	s, err := Parse(p)
	return s, p, err
}

// Parse reads a PKCS #8 PEM private key (SM2 or ECDSA P-256).
func Parse(pemText string) (*Signer, error) {
	blk, _ := pem.Decode([]byte(strings.TrimSpace(pemText)))
	if blk == nil {
		return nil, errors.New("signing: REDRESS_SIGNING_KEY is not PEM")
	}
	key, err := smx509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing: parse key: %w", err)
	}
	s := &Signer{}
	switch k := key.(type) {
	case *sm2.PrivateKey:
		s.alg, s.sm2Key = AlgSM2, k
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case sm2.P256():
			sk, err := new(sm2.PrivateKey).FromECPrivateKey(k)
			if err != nil {
				return nil, fmt.Errorf("signing: sm2 key: %w", err)
			}
			s.alg, s.sm2Key = AlgSM2, sk
		case elliptic.P256():
			s.alg, s.ecKey = AlgECDSA, k
		default:
			return nil, errors.New("signing: want an SM2 or P-256 key")
		}
	default:
		return nil, fmt.Errorf("signing: want an SM2 or P-256 key, got %T", key)
	}
	if s.pubDER, err = smx509.MarshalPKIXPublicKey(&s.privateKey().PublicKey); err != nil {
		return nil, fmt.Errorf("signing: public key: %w", err)
	}
	s.kid = keyID(s.alg, s.pubDER)
	return s, nil
}

func (s *Signer) privateKey() *ecdsa.PrivateKey {
	if s.sm2Key != nil {
		return &s.sm2Key.PrivateKey
	}
	return s.ecKey
}

// keyID names a public key by the first 8 bytes of its digest (SM3 for SM2 keys).
func keyID(alg string, der []byte) string {
	if alg == AlgSM2 {
		d := sm3.Sum(der)
		return hex.EncodeToString(d[:8])
	}
	d := sha256.Sum256(der)
	return hex.EncodeToString(d[:8])
}

// Algorithm names the signature algorithm.
func (s *Signer) Algorithm() string { return s.alg }

// Key answers the public key document.
func (s *Signer) Key() Key {
	k := Key{Algorithm: s.alg, KeyID: s.kid, Header: Header,
		PublicKey: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: s.pubDER}))}
	if s.alg == AlgSM2 {
		k.UID = string(UID)
	}
	return k
}

// Sign signs msg (the exact bytes sent) and answers the DER signature.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	if s.sm2Key != nil {
		sig, err := s.sm2Key.SignWithSM2(rand.Reader, UID, msg)
		if err != nil {
			return nil, fmt.Errorf("signing: sm2: %w", err)
		}
		return sig, nil
	}
	d := sha256.Sum256(msg)
	sig, err := ecdsa.SignASN1(rand.Reader, s.ecKey, d[:])
	if err != nil {
		return nil, fmt.Errorf("signing: ecdsa: %w", err)
	}
	return sig, nil
}

// HeaderValue signs msg and formats the header value.
func (s *Signer) HeaderValue(msg []byte) (string, error) {
	sig, err := s.Sign(msg)
	if err != nil {
		return "", err
	}
	return "alg=" + s.alg + "; kid=" + s.kid + "; sig=" + base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks a DER signature of msg against a PEM public key (SM2 or P-256), as a
// publication's reader does with the served key.
func Verify(publicPEM string, msg, sig []byte) error {
	blk, _ := pem.Decode([]byte(publicPEM))
	if blk == nil {
		return errors.New("signing: public key is not PEM")
	}
	pub, err := smx509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return fmt.Errorf("signing: parse public key: %w", err)
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("signing: want an SM2 or P-256 public key, got %T", pub)
	}
	var good bool
	if k.Curve == sm2.P256() {
		good = sm2.VerifyASN1WithSM2(k, UID, msg, sig)
	} else {
		d := sha256.Sum256(msg)
		good = ecdsa.VerifyASN1(k, d[:], sig)
	}
	if !good {
		return errors.New("signing: signature does not verify")
	}
	return nil
}

// VerifyHeader checks a header value made by HeaderValue.
func VerifyHeader(publicPEM, header string, msg []byte) error {
	var sig string
	for _, f := range strings.Split(header, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(f), "="); ok && k == "sig" {
			sig = v
		}
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || sig == "" {
		return errors.New("signing: header carries no signature")
	}
	return Verify(publicPEM, msg, raw)
}
