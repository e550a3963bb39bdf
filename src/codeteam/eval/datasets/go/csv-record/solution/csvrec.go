// Package csvrec parses one CSV record.
package csvrec

import (
	"fmt"
	"strings"
)

// ParseLine splits one CSV record into its fields.
func ParseLine(line string, sep rune) ([]string, error) {
	runes := []rune(strings.TrimSuffix(line, "\r"))
	fields := []string{}
	i := 0
	for {
		var field strings.Builder
		if i < len(runes) && runes[i] == '"' {
			i++
			for {
				if i >= len(runes) {
					return nil, fmt.Errorf("column %d: unterminated quoted field", i+1)
				}
				if runes[i] == '"' {
					if i+1 < len(runes) && runes[i+1] == '"' {
						field.WriteRune('"')
						i += 2
						continue
					}
					i++
					break
				}
				field.WriteRune(runes[i])
				i++
			}
			if i < len(runes) && runes[i] != sep {
				return nil, fmt.Errorf("column %d: %q after a quoted field", i+1, runes[i])
			}
		} else {
			for i < len(runes) && runes[i] != sep {
				if runes[i] == '"' {
					return nil, fmt.Errorf("column %d: quote in an unquoted field", i+1)
				}
				field.WriteRune(runes[i])
				i++
			}
		}
		fields = append(fields, field.String())
		if i >= len(runes) {
			return fields, nil
		}
		i++ // the separator
	}
}
