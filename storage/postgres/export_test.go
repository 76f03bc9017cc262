package postgres

// Exported for the external tests, which cannot be internal: they use
// internal/pgtest, which imports this package.
var (
	TranslateRegex = translateRegex
	PhysName       = physName
)

// Namespace returns the store's namespace.
func (s *Store) Namespace() string { return s.ns }
