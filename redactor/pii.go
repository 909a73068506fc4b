package redactor

import (
	"net/netip"
	"strings"
)

// luhn reports whether the digits of s (blanks and dashes ignored) are 12
// to 19 digits that pass the Luhn check.
func luhn(s []byte) bool {
	sum, n := 0, 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c == ' ' || c == '-' {
			continue
		}
		if c-'0' >= 10 {
			return false
		}
		d := int(c - '0')
		if n%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
	}
	return n >= 12 && n <= 19 && sum%10 == 0
}

// ibanMod97 reports whether s (blanks ignored) is an IBAN of 15 to 34
// characters whose check digits pass: the first four characters moved to
// the end, letters as 10..35, the number is 1 mod 97.
func ibanMod97(s []byte) bool {
	var b [34]byte
	n := 0
	for _, c := range s {
		if c == ' ' {
			continue
		}
		if n == len(b) {
			return false
		}
		b[n] = c
		n++
	}
	if n < 15 || !isUpper(b[0]) || !isUpper(b[1]) || b[2]-'0' >= 10 || b[3]-'0' >= 10 {
		return false
	}
	rem := 0
	for i := range n {
		c := b[(i+4)%n]
		switch {
		case c-'0' < 10:
			rem = (rem*10 + int(c-'0')) % 97
		case isUpper(c):
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

// issuableSSN reports whether s (123-45-6789 or 9 digits) is a social
// security number the US SSA can issue: area not 000, 666 or 900-999,
// group not 00, serial not 0000.
func issuableSSN(s []byte) bool {
	d := strings.ReplaceAll(string(s), "-", "")
	if len(d) != 9 {
		return false
	}
	for i := range len(d) {
		if d[i]-'0' >= 10 {
			return false
		}
	}
	area, group, serial := d[:3], d[3:5], d[5:]
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}

// ipAddress reports whether s is an IPv4 or IPv6 address (a zone is not
// part of it).
func ipAddress(s []byte) bool {
	_, err := netip.ParseAddr(string(s))
	return err == nil
}
