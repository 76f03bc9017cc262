package sqlkit

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/parsego/parse/storage"
)

// SchemaDoc is the JSON stored in "_SCHEMA"."schema", the same document in
// every SQL adapter.
type SchemaDoc struct {
	Fields  map[string]storage.Field  `json:"fields"`
	CLP     json.RawMessage           `json:"classLevelPermissions,omitempty"`
	Indexes map[string]map[string]any `json:"indexes,omitempty"`
	Unique  []UniqueDoc               `json:"unique,omitempty"`
	// KeyedOnly is storage.Class's.
	KeyedOnly bool `json:"keyedOnly,omitempty"`
}

// UniqueDoc is a storage.Unique in a SchemaDoc.
type UniqueDoc struct {
	Field           string `json:"field"`
	CaseInsensitive bool   `json:"caseInsensitive,omitempty"`
}

// DocFromClass returns c's schema document.
func DocFromClass(c storage.Class) *SchemaDoc {
	d := &SchemaDoc{
		Fields:    maps.Clone(c.Fields),
		CLP:       c.CLP,
		Indexes:   maps.Clone(c.Indexes),
		KeyedOnly: c.KeyedOnly,
	}
	if d.Fields == nil {
		d.Fields = map[string]storage.Field{}
	}
	for _, u := range c.Unique {
		d.Unique = append(d.Unique, UniqueDoc(u))
	}
	return d
}

// Class returns the class the document describes.
func (d *SchemaDoc) Class(name string) storage.Class {
	c := storage.Class{Name: name, Fields: d.Fields, CLP: d.CLP, Indexes: d.Indexes, KeyedOnly: d.KeyedOnly}
	if c.Fields == nil {
		c.Fields = map[string]storage.Field{}
	}
	for _, u := range d.Unique {
		c.Unique = append(c.Unique, storage.Unique(u))
	}
	return c
}

// Clone returns a copy whose fields, indexes and unique list can change
// without touching d.
func (d *SchemaDoc) Clone() *SchemaDoc {
	n := *d
	n.Fields = maps.Clone(d.Fields)
	if n.Fields == nil {
		n.Fields = map[string]storage.Field{}
	}
	n.Indexes = maps.Clone(d.Indexes)
	n.Unique = slices.Clone(d.Unique)
	return &n
}

// DecodeSchema decodes a class's stored schema document.
func DecodeSchema(class string, raw []byte) (*SchemaDoc, error) {
	var d SchemaDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, fmt.Errorf("schema of %s: %w", class, err)
	}
	if d.Fields == nil {
		d.Fields = map[string]storage.Field{}
	}
	return &d, nil
}

// IndexUses reports whether an index's keys name field or a path in it.
func IndexUses(keys map[string]any, field string) bool {
	for k := range keys {
		if k == field || strings.HasPrefix(k, field+".") {
			return true
		}
	}
	return false
}

// HasFields reports whether the document has every one of fields.
func (d *SchemaDoc) HasFields(fields map[string]storage.Field) bool {
	for name := range fields {
		if _, ok := d.Fields[name]; !ok {
			return false
		}
	}
	return true
}

// ApplyFields applies a storage.ClassUpdate's AddFields and ChangeFields to
// the document and returns the fields they added, whose storage the
// adapter creates (relations' join tables). An added field that is present
// is ErrFieldExists, as is a changed one whose type or target differs.
func (d *SchemaDoc) ApplyFields(add, change map[string]storage.Field) (map[string]storage.Field, error) {
	added := map[string]storage.Field{}
	for _, name := range slices.Sorted(maps.Keys(add)) {
		if _, ok := d.Fields[name]; ok {
			return nil, fmt.Errorf("field %s: %w", name, storage.ErrFieldExists)
		}
		d.Fields[name], added[name] = add[name], add[name]
	}
	for _, name := range slices.Sorted(maps.Keys(change)) {
		f := change[name]
		if prev, ok := d.Fields[name]; !ok {
			added[name] = f
		} else if prev.Type != f.Type || prev.TargetClass != f.TargetClass {
			return nil, fmt.Errorf("field %s changes type: %w", name, storage.ErrFieldExists)
		}
		d.Fields[name] = f
	}
	return added, nil
}
