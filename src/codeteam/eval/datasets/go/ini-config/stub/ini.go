// Package ini parses INI configuration files.
package ini

// Parse reads an INI document into section -> key -> value.
func Parse(src string) (map[string]map[string]string, error) { panic("not implemented") }
