package storage

// Relational conditions: conditions on objects of one class that read
// another class (or a relation's join table). Adapters evaluate them in the
// same statement as the query they belong to.

// InQuery holds when Field points to an object of Class that matches Where
// and is readable with ReadPerm (nil: no ACL check; the caller's identity,
// not the master key's, unless the caller is the master). Field is a
// top-level name or a dot path holding a Pointer ({"__type":"Pointer",
// "className":Class,"objectId":...}) or an array in which some element is
// such a Pointer. A Pointer to another class never matches. When Class
// does not exist, InQuery never holds.
//
// With Not, it holds as Parse's rewriting into a $nin of the matching
// objects does on PostgreSQL (see In's Not): when Field is present, not
// null, and points to no such object, and for every object when no object
// of Class matches at all (or Class does not exist).
type InQuery struct {
	Field    string
	Class    string
	Where    Cond
	ReadPerm []string
	Not      bool
	// NotArray tells that Field never holds an array (its schema type is
	// Pointer): an adapter may skip looking into array elements.
	NotArray bool
}

// Select holds when Field's value equals the Key value of some object of
// Class that matches Where and is readable with ReadPerm (nil: no ACL
// check), with Cmp Eq's rules: equal JSON values (an array only equals the
// whole array), or an array field holding the value as an element. Key is a
// top-level name, a dot path, or objectId; objects lacking Key (or holding
// null there) contribute nothing. When Class does not exist, Select never
// holds. With Not, it holds when Field is present, not null and equals none
// of the values, and for every object when there are no values (as InQuery's
// Not).
type Select struct {
	Field    string
	Class    string
	Where    Cond
	Key      string
	ReadPerm []string
	Not      bool
	// NotArray tells that Field never holds an array (its schema type is
	// not Array): an adapter may skip looking into array elements.
	NotArray bool
}

// ContainedBy holds when the array field has no element outside Values
// (compared as Eq compares values). As on MongoDB (where Parse writes it
// {$not: {$elemMatch: {$nin: Values}}}), it also holds when the field is
// missing, null or not an array; an empty array is contained by anything.
type ContainedBy struct {
	Field  string
	Values []any
}

// RelationHas holds for the objects of Relation.OwningClass whose relation
// field Relation.Field links to at least one of RelatedIDs (Relation.OwningID
// is unused), or, with Not, to none of them. Parse writes it as equality,
// $in, $ne or $nin with Pointers on a Relation field. An empty RelationHas
// never holds (Not: always holds); neither does one whose join table does
// not exist.
type RelationHas struct {
	Relation   Relation
	RelatedIDs []string
	Not        bool
	// Related, when not nil, names the related objects instead of
	// RelatedIDs: those of its Class matching its Where and readable with
	// its ReadPerm (its Field, Not and NotArray are unused). Parse writes it
	// as $inQuery or $notInQuery on a Relation field.
	Related *InQuery
}

func (InQuery) cond()     {}
func (Select) cond()      {}
func (ContainedBy) cond() {}
func (RelationHas) cond() {}
