package pii

import "testing"

// TestNormalisePhone (issue 17, finding 2): the spellings of one mobile number are one number.
func TestNormalisePhone(t *testing.T) {
	for in, want := range map[string]string{
		"13700137000": "13700137000", "+13700137000": "13700137000", "1-3700137000": "13700137000",
		"13-700137000": "13700137000", "137 0013 7000": "13700137000", "+86 137-0013-7000": "13700137000",
		"0086 13700137000": "13700137000", "8613700137000": "13700137000", "+86(137)00137000": "13700137000",
		"１３７００１３７０００": "13700137000", "0755-83001234": "075583001234", "12345": "12345",
	} {
		got, err := NormalisePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalisePhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1234", "abc13700137000", "137+00137000", "+", "123456789012345678901"} {
		if got, err := NormalisePhone(in); err == nil {
			t.Errorf("NormalisePhone(%q) = %q, want an error", in, got)
		}
	}
}

// TestNormaliseIDNumber: GB 11643 check characters are verified and x is upper-cased.
func TestNormaliseIDNumber(t *testing.T) {
	for in, want := range map[string]string{
		"11010519491231002X": "11010519491231002X", "11010519491231002x": "11010519491231002X",
		" 440524188001010014 ": "440524188001010014", "440301900101123": "440301900101123", "e12345678": "E12345678",
	} {
		got, err := NormaliseIDNumber(in)
		if err != nil || got != want {
			t.Errorf("NormaliseIDNumber(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"110105194912310021", "440524188001010015", "12345", "44052418800101001-"} {
		if got, err := NormaliseIDNumber(in); err == nil {
			t.Errorf("NormaliseIDNumber(%q) = %q, want an error", in, got)
		}
	}
}
