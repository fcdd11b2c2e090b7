package pii

import (
	"errors"
	"strings"
)

// Normalisation (issue 17, finding 2): the keyed hashes find one person's ratings, count an
// identity's bursts and look a phone up, so one person must always hash the same. A phone
// written "+86 137-0013-7000", "0086 13700137000" or "13700137000" is one number, and an ID
// number with a lower-case check letter is the same ID. Values are normalised before they are
// hashed, sealed or compared.

// ErrPhone and ErrIDNumber are returned for values that cannot be a phone or an ID number.
var (
	ErrPhone    = errors.New("not a phone number")
	ErrIDNumber = errors.New("not a valid ID number")
)

// NormalisePhone returns the canonical form of a phone number: a mainland mobile number as
// its 11 digits (without +86/0086/86, spaces, hyphens, dots or brackets), anything else as its
// digits (5–20, landlines keep their area code's leading 0).
func NormalisePhone(s string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９': // full-width digits from Chinese input methods
			b.WriteRune('0' + (r - '０'))
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\u00a0' || r == '\u3000':
		default:
			return "", ErrPhone
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "+86"):
		d = d[3:]
	case strings.HasPrefix(d, "0086"):
		d = d[4:]
	case strings.HasPrefix(d, "+"):
		d = d[1:]
	}
	if len(d) == 13 && strings.HasPrefix(d, "86") && isMobile(d[2:]) {
		d = d[2:]
	}
	if strings.ContainsRune(d, '+') || len(d) < 5 || len(d) > 20 {
		return "", ErrPhone
	}
	return d, nil
}

// isMobile reports whether d is a mainland mobile number: 1[3-9] and nine more digits.
func isMobile(d string) bool {
	return len(d) == 11 && d[0] == '1' && d[1] >= '3' && d[1] <= '9'
}

// gb11643Weights are the weights of the first 17 digits of a citizen ID number (GB 11643).
var gb11643Weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// gb11643Check maps the weighted sum mod 11 to the check character.
const gb11643Check = "10X98765432"

// NormaliseIDNumber returns the canonical form of an ID number: trimmed and upper-case. An
// 18-character resident ID number (17 digits and a check character) must carry the right GB
// 11643 check character; 15-digit first-generation numbers and other documents (6–32 letters
// or digits: passports, permits) are kept as they are, upper-case.
func NormaliseIDNumber(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) < 6 || len(s) > 32 {
		return "", ErrIDNumber
	}
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'A' || r > 'Z') {
			return "", ErrIDNumber
		}
	}
	if len(s) == 18 && allDigits(s[:17]) {
		sum := 0
		for i := 0; i < 17; i++ {
			sum += int(s[i]-'0') * gb11643Weights[i]
		}
		if s[17] != gb11643Check[sum%11] {
			return "", ErrIDNumber
		}
	}
	return s, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
