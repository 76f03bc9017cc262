package parse

import (
	"encoding/json"
	"time"
)

// Object is one Parse object: its class, identity, timestamps, ACL and
// fields. Field values are the types listed in values.go.
type Object struct {
	ClassName string
	ID        string
	CreatedAt time.Time
	UpdatedAt time.Time
	// ACL is nil for an object without an ACL (readable and writable by
	// anyone the class-level permissions admit).
	ACL    ACL
	Fields map[string]any
}

// Get returns a field's value.
func (o *Object) Get(field string) any { return o.Fields[field] }

// Pointer returns a Pointer to o.
func (o *Object) Pointer() Pointer { return Pointer{ClassName: o.ClassName, ObjectID: o.ID} }

// MarshalJSON encodes o as the REST API returns it.
func (o *Object) MarshalJSON() ([]byte, error) { return o.appendJSON(nil, false), nil }

// AppendJSON appends o as MarshalJSON encodes it, so that a response of
// many objects is built in one buffer.
func (o *Object) AppendJSON(b []byte) []byte { return o.appendJSON(b, false) }

// appendJSON appends o in REST encoding; included objects carry
// "__type":"Object" and their className.
func (o *Object) appendJSON(b []byte, included bool) []byte {
	b = append(b, '{')
	sep := false
	comma := func() {
		if sep {
			b = append(b, ',')
		}
		sep = true
	}
	if included {
		b = append(b, `"__type":"Object","className":`...)
		b = appendString(b, o.ClassName)
		sep = true
	}
	if o.ID != "" {
		comma()
		b = append(b, `"objectId":`...)
		b = appendString(b, o.ID)
	}
	if !o.CreatedAt.IsZero() {
		comma()
		b = append(b, `"createdAt":"`...)
		b = AppendDate(b, o.CreatedAt)
		b = append(b, '"')
	}
	if !o.UpdatedAt.IsZero() {
		comma()
		b = append(b, `"updatedAt":"`...)
		b = AppendDate(b, o.UpdatedAt)
		b = append(b, '"')
	}
	for _, k := range sortedKeys(o.Fields) {
		comma()
		b = appendString(b, k)
		b = append(b, ':')
		b = appendValue(b, o.Fields[k], false)
	}
	if o.ACL != nil {
		comma()
		b = append(b, `"ACL":`...)
		b = o.ACL.appendJSON(b)
	}
	return append(b, '}')
}

// ACL is an object's access control list: entries are "*" (the public),
// user IDs and "role:<name>".
type ACL map[string]Permission

// Permission is one ACL entry's rights.
type Permission struct {
	Read  bool
	Write bool
}

// PublicRead is the entry key of the public.
const PublicRead = "*"

// DecodeACL validates and decodes an ACL from REST JSON.
func DecodeACL(v any) (ACL, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, NewError(InvalidACL, "ACL must be an object")
	}
	acl := make(ACL, len(m))
	for who, p := range m {
		switch who {
		case "":
			return nil, NewError(InvalidACL, "invalid ACL entry")
		case "*unresolved":
			// The JS SDK's entry for a user not saved yet.
			return nil, NewError(InvalidACL, "Invalid ACL.")
		}
		pm, ok := p.(map[string]any)
		if !ok {
			return nil, NewError(InvalidACL, "invalid permission for ACL entry %s", who)
		}
		var perm Permission
		for k, flag := range pm {
			b, ok := flag.(bool)
			if !ok || (k != "read" && k != "write") {
				return nil, NewError(InvalidACL, "invalid permission %q for ACL entry %s", k, who)
			}
			if k == "read" {
				perm.Read = b
			} else {
				perm.Write = b
			}
		}
		acl[who] = perm
	}
	return acl, nil
}

// perms splits the ACL into the read and write entry lists the store keeps.
// A nil ACL gives nil lists (public); an empty one gives empty lists.
func (a ACL) perms() (read, write []string) {
	if a == nil {
		return nil, nil
	}
	read, write = []string{}, []string{}
	for _, who := range sortedKeys(a) {
		p := a[who]
		if p.Read {
			read = append(read, who)
		}
		if p.Write {
			write = append(write, who)
		}
	}
	return read, write
}

// aclFromPerms rebuilds an ACL from stored entry lists.
func aclFromPerms(read, write []string) ACL {
	if read == nil && write == nil {
		return nil
	}
	acl := make(ACL, len(read)+len(write))
	for _, who := range read {
		p := acl[who]
		p.Read = true
		acl[who] = p
	}
	for _, who := range write {
		p := acl[who]
		p.Write = true
		acl[who] = p
	}
	return acl
}

// MarshalJSON encodes the ACL as the REST API does.
func (a ACL) MarshalJSON() ([]byte, error) { return a.appendJSON(nil), nil }

func (a ACL) appendJSON(b []byte) []byte {
	b = append(b, '{')
	for i, who := range sortedKeys(a) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, who)
		p := a[who]
		switch {
		case p.Read && p.Write:
			b = append(b, `:{"read":true,"write":true}`...)
		case p.Read:
			b = append(b, `:{"read":true}`...)
		case p.Write:
			b = append(b, `:{"write":true}`...)
		default:
			b = append(b, `:{}`...)
		}
	}
	return append(b, '}')
}

// UnmarshalJSON decodes an ACL from REST JSON.
func (a *ACL) UnmarshalJSON(data []byte) error {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	acl, err := DecodeACL(v)
	if err != nil {
		return err
	}
	*a = acl
	return nil
}
