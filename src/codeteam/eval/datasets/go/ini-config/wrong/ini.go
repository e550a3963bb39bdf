// Package ini parses INI configuration files.
package ini

import (
	"fmt"
	"strings"
)

const blank = " \t"

// Parse reads an INI document into section -> key -> value.
func Parse(src string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{"": {}}
	section := ""
	for i, raw := range strings.Split(src, "\n") {
		line := strings.Trim(strings.TrimSuffix(raw, "\r"), blank)
		switch {
		case line == "" || line[0] == ';' || line[0] == '#':
			continue
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: unterminated section header", i+1)
			}
			section = strings.Trim(line[1:len(line)-1], blank)
			if section == "" {
				return nil, fmt.Errorf("line %d: empty section name", i+1)
			}
			out[section] = map[string]string{}
		default:
			key, value, ok := strings.Cut(line, "=")
			key = strings.Trim(key, blank)
			if !ok || key == "" {
				return nil, fmt.Errorf("line %d: want key = value", i+1)
			}
			out[section][key] = parseValue(strings.Trim(value, blank))
		}
	}
	return out, nil
}

func parseValue(v string) string {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return v[1 : len(v)-1]
	}
	for i := 1; i < len(v); i++ {
		if (v[i] == ';' || v[i] == '#') && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.Trim(v[:i], blank)
		}
	}
	return v
}
