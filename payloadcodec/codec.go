// Package payloadcodec encrypts every Temporal payload redress writes (workflow inputs and
// results, update and signal arguments, query answers, memos, activity arguments and results,
// failure messages) with the deployment's personal-data keys, so that the history kept by the
// Temporal server holds no readable free text: officers' notes, comments and the evaluator's
// feedback can hold personal data too (issue 16, finding 6). Under REDRESS_CRYPTO=gm the keys
// are SM4 and so is the codec (issue 21).
//
// Each encrypted payload records its encoding and the id of the key that sealed it, so a key
// rotation (a new first key in REDRESS_PII_KEYS, the old ones kept after it) leaves older
// payloads readable. Payloads without the codec's encoding (histories recorded before the
// codec, and whatever another client wrote in clear) pass through Decode unchanged, so running
// orders keep replaying.
package payloadcodec

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"

	"redress/pii"
)

const (
	// Encoding is the metadata "encoding" of an encrypted payload (the name Temporal's own
	// encryption samples use, which the web UI shows as it is).
	Encoding = "binary/encrypted"
	// MetadataKeyID names the key that sealed the payload.
	MetadataKeyID = "encryption-key-id"
	// MetadataCipher names the cipher (AES-256-GCM or SM4-GCM), for an operator or a 密评
	// assessor reading raw history.
	MetadataCipher = "encryption-cipher"
)

// Codec is a converter.PayloadCodec over a pii.Box.
type Codec struct {
	box *pii.Box
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New builds the codec of a box; a nil box is an error (nothing may be written in clear by
// mistake).
func New(box *pii.Box) (*Codec, error) {
	if box == nil {
		return nil, errors.New("payloadcodec: no personal-data keys configured")
	}
	return &Codec{box: box}, nil
}

// DataConverter is the SDK's default JSON/proto converter with the codec applied.
func DataConverter(box *pii.Box) (converter.DataConverter, error) {
	c, err := New(box)
	if err != nil {
		return nil, err
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c), nil
}

// FailureConverter moves failure messages and stack traces into an encoded (encrypted)
// attribute: a refused action's message could echo what a user typed.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
}

// aad binds the ciphertext to its metadata: a payload whose key id or encoding is edited does
// not open.
func aad(kid string) []byte { return []byte(Encoding + "\x00" + kid) }

// Encode seals each payload (its metadata and data, as one protobuf message) with the box's
// current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	kid, aead := c.box.Current()
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		pt, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("payloadcodec: marshal payload: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(pt)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("payloadcodec: nonce: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(kid),
				MetadataCipher:             []byte(c.box.KeyCipher(kid)),
			},
			Data: aead.Seal(nonce, nonce, pt, aad(kid)),
		}
	}
	return out, nil
}

// Decode opens each payload the codec sealed, with the key named in its metadata; any other
// payload is returned as it is.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		kid := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.box.AEAD(kid)
		if !ok {
			return payloads, fmt.Errorf("payloadcodec: payload sealed with key %q, which is not configured (keep retired keys in REDRESS_PII_KEYS while histories use them)", kid)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize()+aead.Overhead() {
			return payloads, fmt.Errorf("payloadcodec: payload sealed with key %q is truncated", kid)
		}
		pt, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], aad(kid))
		if err != nil {
			return payloads, fmt.Errorf("payloadcodec: payload sealed with key %q does not open (wrong key or tampered)", kid)
		}
		var clear commonpb.Payload
		if err := proto.Unmarshal(pt, &clear); err != nil {
			return payloads, fmt.Errorf("payloadcodec: decrypted payload: %w", err)
		}
		out[i] = &clear
	}
	return out, nil
}

// DecodeAll decodes, in place, every payload inside a Temporal message (a whole history, an
// event): what the web UI shows through the codec endpoint, for tools and tests. Search
// attributes are left alone: they are never encoded (the server indexes them).
func (c *Codec) DecodeAll(ctx context.Context, msg proto.Message) error {
	return proxy.VisitPayloads(ctx, msg, proxy.VisitPayloadsOptions{
		SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
			return c.Decode(p)
		},
	})
}
