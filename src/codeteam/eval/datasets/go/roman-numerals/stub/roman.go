// Package roman converts between integers and canonical Roman numerals.
package roman

// Format writes n (1..3999) as a canonical Roman numeral.
func Format(n int) (string, error) { panic("not implemented") }

// Parse reads a canonical Roman numeral.
func Parse(s string) (int, error) { panic("not implemented") }
