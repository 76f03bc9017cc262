// Package sqlkit holds what the SQL adapters (storage/postgres,
// storage/sqlite) share regardless of dialect: identifier and field path
// validation, the class schema document, the classification of condition
// values, SQL fragments and blob chunking. Anything that writes dialect
// specific SQL stays in the adapters.
package sqlkit
