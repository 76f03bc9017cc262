package storagetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/parsego/parse/storage"
)

// condClass is the class of the condition fixture.
const condClass = "Item"

func ptr(id string) string {
	return `{"__type":"Pointer","className":"Owner","objectId":"` + id + `"}`
}

// condFixture is the objects every condition case runs against. Object iN
// is created at at(N) and updated at at(24-N).
var condFixture = []struct{ id, data string }{
	{"i1", `{"name":"alpha","num":1,"flag":true,"when":` + date("2020-01-01T00:00:00.000Z") + `,"owner":` + ptr("ow1") + `,"refs":[` + ptr("ow2") + `],"tags":["a","b"],"obj":{"x":1,"s":"deep","v":5},"opt":null,"text":"Hello World"}`},
	{"i2", `{"name":"beta","num":2.5,"flag":false,"when":` + date("2021-06-15T12:30:00.000Z") + `,"owner":` + ptr("ow2") + `,"refs":[` + ptr("ow1") + `,` + ptr("ow3") + `],"tags":["b","c","c"],"obj":{"x":2,"v":"5"},"opt":"set","text":"first line\nsecond line"}`},
	{"i3", `{"name":"gamma","num":-3,"flag":true,"when":` + date("2019-12-31T23:59:59.999Z") + `,"tags":[],"obj":{"x":null,"v":true},"text":"hello\nworld"}`},
	{"i4", `{"name":"delta","num":10,"tags":["z",{"k":1}],"obj":{"x":3,"v":{"k":1}},"opt":"other","text":"a.b"}`},
	{"i5", `{"name":"epsilon","flag":false,"when":` + date("2022-01-01T00:00:00.000Z") + `,"obj":{"x":4},"text":"axb"}`},
	{"i6", `{"num":0,"tags":["a"],"opt":null,"text":"2024 score 99"}`},
	{"i7", `{}`},
}

var allItems = []string{"i1", "i2", "i3", "i4", "i5", "i6", "i7"}

// except returns allItems without the given IDs.
func except(ex ...string) []string {
	var out []string
outer:
	for _, id := range allItems {
		for _, e := range ex {
			if id == e {
				continue outer
			}
		}
		out = append(out, id)
	}
	return out
}

// condIndexes are the schema indexes of the indexed run of the condition
// cases: on a Number field, a String field and a Date field.
var condIndexes = map[string]map[string]any{"num_1": {"num": 1.0}, "name_1": {"name": -1.0}, "when_1": {"when": 1.0}}

// condLayout is how the condition fixture's class is indexed.
type condLayout struct {
	indexes   map[string]map[string]any // schema indexes
	unique    []storage.Unique
	keyedOnly bool
}

// condStore opens a store holding the condition fixture, its class laid
// out as l says.
func condStore(t *testing.T, o opener, l condLayout) storage.Store {
	t.Helper()
	ctx, s := o.fresh(t)
	_, err := s.CreateClass(ctx, storage.Class{Name: condClass, Unique: l.unique, KeyedOnly: l.keyedOnly, Fields: fields(
		"name", "String", "num", "Number", "flag", "Boolean", "when", "Date",
		"owner", "Pointer:Owner", "refs", "Array", "tags", "Array", "obj", "Object",
		"opt", "String", "text", "String")})
	if err != nil {
		t.Fatalf("CreateClass(%s): %v", condClass, err)
	}
	if l.indexes != nil {
		if _, err := s.UpdateClass(ctx, condClass, storage.ClassUpdate{AddIndexes: l.indexes}); err != nil {
			t.Fatalf("UpdateClass AddIndexes: %v", err)
		}
	}
	objs := make([]storage.Object, len(condFixture))
	for i, f := range condFixture {
		objs[i] = storage.Object{ID: f.id, CreatedAt: at(i + 1), UpdatedAt: at(24 - (i + 1)), Data: raw(f.data)}
	}
	mustInsert(t, ctx, s, condClass, objs...)
	return s
}

type condCase struct {
	name  string
	where storage.Cond
	want  []string
}

// runCondCases runs each case as a parallel subtest with Find and Count.
func runCondCases(t *testing.T, s storage.Store, class string, cases []condCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			checkCond(t, t.Context(), s, class, c)
		})
	}
}

func checkCond(t *testing.T, ctx context.Context, s storage.Store, class string, c condCase) {
	t.Helper()
	q := storage.Query{Where: c.where}
	var got []storage.Object
	var err error
	noPanic(t, "Find", func() { got, err = s.Find(ctx, class, q) })
	if err != nil {
		t.Errorf("Find(%s): %v", describeCond(c.where), err)
		return
	}
	wantIDSet(t, "Find("+describeCond(c.where)+")", got, c.want...)
	var n int64
	noPanic(t, "Count", func() { n, err = s.Count(ctx, class, q) })
	if err != nil {
		t.Errorf("Count(%s): %v", describeCond(c.where), err)
		return
	}
	if n != int64(len(c.want)) {
		t.Errorf("Count(%s) = %d, want %d", describeCond(c.where), n, len(c.want))
	}
}

func eq(f string, v any) storage.Cmp  { return storage.Cmp{Field: f, Op: storage.Eq, Value: v} }
func ne(f string, v any) storage.Cmp  { return storage.Cmp{Field: f, Op: storage.Ne, Value: v} }
func lt(f string, v any) storage.Cmp  { return storage.Cmp{Field: f, Op: storage.Lt, Value: v} }
func lte(f string, v any) storage.Cmp { return storage.Cmp{Field: f, Op: storage.Lte, Value: v} }
func gt(f string, v any) storage.Cmp  { return storage.Cmp{Field: f, Op: storage.Gt, Value: v} }
func gte(f string, v any) storage.Cmp { return storage.Cmp{Field: f, Op: storage.Gte, Value: v} }
func in(f string, v ...any) storage.In {
	if v == nil {
		v = []any{}
	}
	return storage.In{Field: f, Values: v}
}
func nin(f string, v ...any) storage.In {
	if v == nil {
		v = []any{}
	}
	return storage.In{Field: f, Values: v, Not: true}
}
func exists(f string, e bool) storage.Exists { return storage.Exists{Field: f, Exists: e} }
func all(f string, v ...any) storage.All     { return storage.All{Field: f, Values: v} }
func re(f, pattern, options string) storage.Regex {
	return storage.Regex{Field: f, Pattern: pattern, Options: options}
}
func rawv(s string) json.RawMessage { return json.RawMessage(s) }

func testConditions(t *testing.T, o opener) {
	testConditionsOn(t, o, condLayout{})
	// The same cases with schema indexes, or on a KeyedOnly class with a
	// unique String field: an adapter may answer them another way (the
	// PostgreSQL one compares a Number field's number column, a String
	// field with its own index), never with other results.
	t.Run("Indexed", func(t *testing.T) { testConditionsOn(t, o, condLayout{indexes: condIndexes}) })
	t.Run("KeyedOnly", func(t *testing.T) {
		testConditionsOn(t, o, condLayout{keyedOnly: true, unique: []storage.Unique{{Field: "name"}}})
	})
}

func testConditionsOn(t *testing.T, o opener, layout condLayout) {
	t.Run("Eq", func(t *testing.T) {
		s := condStore(t, o, layout)
		runCondCases(t, s, condClass, []condCase{
			{"String", eq("name", "alpha"), []string{"i1"}},
			{"StringOtherCase", eq("name", "ALPHA"), nil},
			{"StringVsNumber", eq("name", 1.0), nil},
			{"StringNull", eq("name", nil), []string{"i6", "i7"}},
			{"NumberFraction", eq("num", 2.5), []string{"i2"}},
			{"NumberZero", eq("num", 0.0), []string{"i6"}},
			{"NumberIntValued", eq("num", 10.0), []string{"i4"}},
			{"NumberNegative", eq("num", -3.0), []string{"i3"}},
			{"NumberVsString", eq("num", "10"), nil},
			{"BoolTrue", eq("flag", true), []string{"i1", "i3"}},
			{"BoolFalse", eq("flag", false), []string{"i2", "i5"}},
			{"BoolVsNumber", eq("flag", 1.0), nil},
			{"NullMatchesNullAndMissing", eq("opt", nil), []string{"i1", "i3", "i5", "i6", "i7"}},
			{"NullDotPath", eq("obj.x", nil), []string{"i3", "i6", "i7"}},
			{"Date", eq("when", mustTime("2021-06-15T12:30:00Z")), []string{"i2"}},
			{"DateMilliseconds", eq("when", mustTime("2019-12-31T23:59:59.999Z")), []string{"i3"}},
			{"DateOtherMillisecond", eq("when", mustTime("2019-12-31T23:59:59.998Z")), nil},
			{"DateOtherZone", eq("when", mustTime("2020-01-01T05:30:00+05:30")), []string{"i1"}},
			{"DateVsString", eq("when", "2020-01-01T00:00:00.000Z"), nil},
			{"Pointer", eq("owner", rawv(`{"objectId":"ow1","className":"Owner","__type":"Pointer"}`)), []string{"i1"}},
			{"PointerOther", eq("owner", rawv(ptr("ow9"))), nil},
			{"PointerInArray", eq("refs", rawv(ptr("ow1"))), []string{"i2"}},
			{"DotPathString", eq("obj.s", "deep"), []string{"i1"}},
			{"DotPathNumber", eq("obj.x", 2.0), []string{"i2"}},
			{"DotPathStringNotNumber", eq("obj.v", "5"), []string{"i2"}},
			{"DotPathNumberNotString", eq("obj.v", 5.0), []string{"i1"}},
			{"DotPathObject", eq("obj.v", rawv(`{"k":1}`)), []string{"i4"}},
			{"ArrayContains", eq("tags", "b"), []string{"i1", "i2"}},
			{"ArrayContainsDuplicate", eq("tags", "c"), []string{"i2"}},
			{"ArrayContainsNothing", eq("tags", "q"), nil},
			{"ArrayContainsObject", eq("tags", rawv(`{"k":1}`)), []string{"i4"}},
			{"ArrayExact", eq("tags", rawv(`["a","b"]`)), []string{"i1"}},
			{"ArrayOtherOrder", eq("tags", rawv(`["b","a"]`)), nil},
			{"ArrayExactSingle", eq("tags", rawv(`["a"]`)), []string{"i6"}},
			{"ArrayEmpty", eq("tags", rawv(`[]`)), []string{"i3"}},
			{"ObjectExact", eq("obj", rawv(`{"x":4}`)), []string{"i5"}},
			{"ObjectSubsetIsNotEqual", eq("obj", rawv(`{"x":2}`)), nil},
			{"ObjectID", eq("objectId", "i3"), []string{"i3"}},
			{"ObjectIDUnknown", eq("objectId", "i9"), nil},
			{"CreatedAt", eq("createdAt", at(5)), []string{"i5"}},
			{"UpdatedAt", eq("updatedAt", at(20)), []string{"i4"}},
			{"MissingField", eq("nope", "x"), nil},
		})
	})

	t.Run("Ne", func(t *testing.T) {
		s := condStore(t, o, layout)
		runCondCases(t, s, condClass, []condCase{
			{"StringMatchesMissing", ne("name", "alpha"), except("i1")},
			{"Number", ne("num", 1.0), except("i1")},
			{"NumberVsString", ne("num", "1"), allItems},
			{"Bool", ne("flag", true), except("i1", "i3")},
			{"ArrayContains", ne("tags", "b"), except("i1", "i2")},
			{"ArrayExact", ne("tags", rawv(`["a","b"]`)), except("i1")},
			{"Nil", ne("opt", nil), []string{"i2", "i4"}},
			{"NilDotPath", ne("obj.x", nil), []string{"i1", "i2", "i4", "i5"}},
			{"DotPath", ne("obj.x", 1.0), except("i1")},
			{"Date", ne("when", mustTime("2021-06-15T12:30:00Z")), except("i2")},
			{"Pointer", ne("owner", rawv(ptr("ow1"))), except("i1")},
			{"ObjectID", ne("objectId", "i1"), except("i1")},
			{"MissingField", ne("nope", "x"), allItems},
		})
	})

	t.Run("Range", func(t *testing.T) {
		s := condStore(t, o, layout)
		runCondCases(t, s, condClass, []condCase{
			{"NumberLt", lt("num", 1.0), []string{"i3", "i6"}},
			{"NumberLte", lte("num", 1.0), []string{"i1", "i3", "i6"}},
			{"NumberGt", gt("num", 2.5), []string{"i4"}},
			{"NumberGte", gte("num", 2.5), []string{"i2", "i4"}},
			{"NumberGtNumeric", gt("num", 9.0), []string{"i4"}},
			{"NumberLtZero", lt("num", 0.0), []string{"i3"}},
			{"NumberGteZero", gte("num", 0.0), []string{"i1", "i2", "i4", "i6"}},
			{"NumberMissingNeverMatches", gt("num", -100.0), []string{"i1", "i2", "i3", "i4", "i6"}},
			{"NumberLtMissingNeverMatches", lt("num", 100.0), []string{"i1", "i2", "i3", "i4", "i6"}},
			{"NumberVsString", lt("num", "z"), nil},
			{"NumberVsEmptyString", gt("num", ""), nil},
			{"NumberVsDate", lt("num", mustTime("3000-01-01T00:00:00Z")), nil},
			{"StringLt", lt("name", "beta"), []string{"i1"}},
			{"StringLte", lte("name", "beta"), []string{"i1", "i2"}},
			{"StringGt", gt("name", "delta"), []string{"i3", "i5"}},
			{"StringGte", gte("name", "delta"), []string{"i3", "i4", "i5"}},
			{"StringGtEmpty", gt("name", ""), []string{"i1", "i2", "i3", "i4", "i5"}},
			{"StringVsNumber", lt("name", 5.0), nil},
			{"StringVsDate", lt("name", mustTime("3000-01-01T00:00:00Z")), nil},
			{"DateGt", gt("when", mustTime("2020-01-01T00:00:00Z")), []string{"i2", "i5"}},
			{"DateGte", gte("when", mustTime("2020-01-01T00:00:00Z")), []string{"i1", "i2", "i5"}},
			{"DateLt", lt("when", mustTime("2020-01-01T00:00:00Z")), []string{"i3"}},
			{"DateLteMilliseconds", lte("when", mustTime("2019-12-31T23:59:59.999Z")), []string{"i3"}},
			{"DateLtMilliseconds", lt("when", mustTime("2019-12-31T23:59:59.999Z")), nil},
			{"DateOtherZone", gt("when", mustTime("2021-06-15T14:29:59.999+02:00")), []string{"i2", "i5"}},
			{"DateVsString", gt("when", "2000"), nil},
			{"DateVsNumber", lt("when", 1e15), nil},
			{"DotPathMixedNumber", lt("obj.v", 10.0), []string{"i1"}},
			{"DotPathMixedNumberGte", gte("obj.v", 5.0), []string{"i1"}},
			{"DotPathMixedString", gt("obj.v", "0"), []string{"i2"}},
			{"DotPathMixedStringLte", lte("obj.v", "5"), []string{"i2"}},
			{"DotPathNullNeverMatches", lt("obj.x", 100.0), []string{"i1", "i2", "i4", "i5"}},
			{"DotPathGte", gte("obj.x", 2.0), []string{"i2", "i4", "i5"}},
			{"CreatedAtGt", gt("createdAt", at(3)), []string{"i4", "i5", "i6", "i7"}},
			{"CreatedAtGte", gte("createdAt", at(3)), []string{"i3", "i4", "i5", "i6", "i7"}},
			{"CreatedAtLte", lte("createdAt", at(2)), []string{"i1", "i2"}},
			{"CreatedAtLt", lt("createdAt", at(1)), nil},
			{"CreatedAtMilliseconds", lt("createdAt", at(1).Add(time.Millisecond)), []string{"i1"}},
			{"UpdatedAtLt", lt("updatedAt", at(20)), []string{"i5", "i6", "i7"}},
			{"UpdatedAtGte", gte("updatedAt", at(22)), []string{"i1", "i2"}},
			{"ObjectIDGt", gt("objectId", "i5"), []string{"i6", "i7"}},
			{"ObjectIDLte", lte("objectId", "i2"), []string{"i1", "i2"}},
			{"ObjectIDLt", lt("objectId", "i"), nil},
			{"Combined", storage.And{gt("num", 0.0), lt("num", 5.0)}, []string{"i1", "i2"}},
			{"ClosedNumberOverMixedTypes", storage.And{gte("obj.v", 0.0), lte("obj.v", 100.0)}, []string{"i1"}},
			{"ClosedStringOverMixedTypes", storage.And{gt("obj.v", ""), lt("obj.v", "zz")}, []string{"i2"}},
			{"ClosedBoolOverMixedTypes", storage.And{gte("obj.v", false), lte("obj.v", true)}, []string{"i3"}},
			{"ClosedNumberOverArrays", storage.And{gte("tags", -1e9), lt("tags", 1e9)}, nil},
			{"ClosedStrings", storage.And{gte("name", "b"), lt("name", "e")}, []string{"i2", "i4"}},
			{"BoundsOfTwoTypes", storage.And{gt("obj.v", 0.0), lt("obj.v", "z")}, nil},
			{"ClosedWithOtherConditions", storage.And{gte("num", 0.0), eq("flag", true), lt("num", 5.0)}, []string{"i1"}},
		})
	})

	t.Run("In", func(t *testing.T) {
		s := condStore(t, o, layout)
		runCondCases(t, s, condClass, []condCase{
			{"Strings", in("name", "alpha", "gamma", "zzz"), []string{"i1", "i3"}},
			{"NotStringsSkipsMissing", nin("name", "alpha", "gamma", "zzz"), []string{"i2", "i4", "i5"}},
			{"ArrayContains", in("tags", "c", "zz"), []string{"i2"}},
			{"ArrayContainsSeveral", in("tags", "a"), []string{"i1", "i6"}},
			{"NotArrayContains", nin("tags", "a"), []string{"i2", "i3", "i4"}},
			{"ArrayExact", in("tags", rawv(`["a","b"]`)), []string{"i1"}},
			{"Empty", in("name"), nil},
			{"NotEmpty", nin("name"), allItems},
			{"Numbers", in("num", 1.0, 10.0, "2.5"), []string{"i1", "i4"}},
			{"NotNumbers", nin("num", 1.0, 10.0, "2.5"), []string{"i2", "i3", "i6"}},
			{"Nil", in("opt", nil), []string{"i1", "i3", "i5", "i6", "i7"}},
			{"NilAndString", in("opt", nil, "set"), except("i4")},
			{"NotNilAndString", nin("opt", nil, "set"), []string{"i4"}},
			{"Dates", in("when", mustTime("2021-06-15T12:30:00Z"), mustTime("2022-01-01T00:00:00Z")), []string{"i2", "i5"}},
			{"Pointers", in("owner", rawv(ptr("ow2")), rawv(ptr("ow9"))), []string{"i2"}},
			{"PointerInArray", in("refs", rawv(ptr("ow2"))), []string{"i1"}},
			{"Bools", in("flag", false), []string{"i2", "i5"}},
			{"DotPath", in("obj.x", 2.0, 3.0), []string{"i2", "i4"}},
			{"MixedTypes", in("name", "alpha", 1.0, true, nil), []string{"i1", "i6", "i7"}},
			{"ObjectID", in("objectId", "i2", "i4", "nope"), []string{"i2", "i4"}},
			{"NotObjectID", nin("objectId", "i2", "i4", "nope"), []string{"i1", "i3", "i5", "i6", "i7"}},
			{"MissingField", in("nope", "x"), nil},
			{"NotMissingField", nin("nope", "x"), nil},
			{"NotEmptyMissingField", nin("nope"), allItems},
			{"NotNil", nin("opt", nil), []string{"i2", "i4"}},
			{"NotDotPath", nin("obj.x", 1.0, 3.0), []string{"i2", "i5"}},
			{"NotDates", nin("when", mustTime("2021-06-15T12:30:00Z")), []string{"i1", "i3", "i5"}},
			{"NotPointerInArray", nin("refs", rawv(ptr("ow3"))), []string{"i1"}},
			{"NotOtherTypes", nin("obj.v", 5.0), []string{"i2", "i3", "i4"}},
			{"PointerAndScalar", in("refs", rawv(ptr("ow3")), "a", 2.0), []string{"i2"}},
			{"EscapedStrings", in("text", "a.b", `q"uote\`, "first line\nsecond line"), []string{"i2", "i4"}},
			{"NumberSpellings", in("num", rawv("1.0e0"), rawv("-3E0"), json.Number("25e-1")), []string{"i1", "i2", "i3"}},
			{"NorOfInMatchesMissing", storage.Nor{in("name", "alpha")}, except("i1")},
		})
	})

	t.Run("Exists", func(t *testing.T) {
		s := condStore(t, o, layout)
		runCondCases(t, s, condClass, []condCase{
			{"NullIsAbsent", exists("opt", true), []string{"i2", "i4"}},
			{"NotNullIsAbsent", exists("opt", false), []string{"i1", "i3", "i5", "i6", "i7"}},
			{"String", exists("name", true), []string{"i1", "i2", "i3", "i4", "i5"}},
			{"NotString", exists("name", false), []string{"i6", "i7"}},
			{"FalseIsPresent", exists("flag", true), []string{"i1", "i2", "i3", "i5"}},
			{"NotBool", exists("flag", false), []string{"i4", "i6", "i7"}},
			{"ZeroIsPresent", exists("num", true), []string{"i1", "i2", "i3", "i4", "i6"}},
			{"EmptyArrayIsPresent", exists("tags", true), []string{"i1", "i2", "i3", "i4", "i6"}},
			{"NotArray", exists("tags", false), []string{"i5", "i7"}},
			{"DotPath", exists("obj.x", true), []string{"i1", "i2", "i4", "i5"}},
			{"NotDotPath", exists("obj.x", false), []string{"i3", "i6", "i7"}},
			{"MissingField", exists("nope", true), nil},
			{"NotMissingField", exists("nope", false), allItems},
		})
	})

	t.Run("All", func(t *testing.T) {
		s := condStore(t, o, layout)
		runCondCases(t, s, condClass, []condCase{
			{"Two", all("tags", "b", "c"), []string{"i2"}},
			{"StoredDuplicates", all("tags", "c"), []string{"i2"}},
			{"GivenDuplicates", all("tags", "c", "c", "b"), []string{"i2"}},
			{"One", all("tags", "a"), []string{"i1", "i6"}},
			{"Shared", all("tags", "b"), []string{"i1", "i2"}},
			{"WholeArray", all("tags", "a", "b"), []string{"i1"}},
			{"OtherOrder", all("tags", "b", "a"), []string{"i1"}},
			{"MissingValue", all("tags", "a", "z"), nil},
			{"Object", all("tags", rawv(`{"k":1}`), "z"), []string{"i4"}},
			{"Pointers", all("refs", rawv(ptr("ow3")), rawv(`{"objectId":"ow1","__type":"Pointer","className":"Owner"}`)), []string{"i2"}},
			{"MissingField", all("nope", "a"), nil},
		})
	})

	t.Run("Regex", func(t *testing.T) {
		s := condStore(t, o, layout)
		texts := []string{"i1", "i2", "i3", "i4", "i5", "i6"}
		runCondCases(t, s, condClass, []condCase{
			{"Substring", re("text", "World", ""), []string{"i1"}},
			{"CaseSensitive", re("text", "world", ""), []string{"i3"}},
			{"I", re("text", "world", "i"), []string{"i1", "i3"}},
			{"Caret", re("text", "^hello", ""), []string{"i3"}},
			{"CaretI", re("text", "^HELLO", "i"), []string{"i1", "i3"}},
			{"CaretWithoutM", re("text", "^second", ""), nil},
			{"CaretM", re("text", "^second", "m"), []string{"i2"}},
			{"CaretSecondLineWithoutM", re("text", "^world", ""), nil},
			{"CaretSecondLineM", re("text", "^world", "m"), []string{"i3"}},
			{"DollarWithoutM", re("text", "first line$", ""), nil},
			{"DollarM", re("text", "first line$", "m"), []string{"i2"}},
			{"DollarEnd", re("text", "line$", ""), []string{"i2"}},
			{"Anchored", re("text", "^Hello World$", ""), []string{"i1"}},
			{"DotNoNewline", re("text", "hello.world", ""), nil},
			{"DotI", re("text", "hello.world", "i"), []string{"i1"}},
			{"DotS", re("text", "hello.world", "s"), []string{"i3"}},
			{"DotIS", re("text", "hello.world", "is"), []string{"i1", "i3"}},
			{"DotStarWithoutS", re("text", "^first.*line$", ""), nil},
			{"DotStarS", re("text", "^first.*line$", "s"), []string{"i2"}},
			{"DotStarM", re("text", "^first.*line$", "m"), []string{"i2"}},
			{"SpacesWithoutX", re("text", "hel lo", ""), nil},
			{"X", re("text", "hel lo # a comment", "x"), []string{"i3"}},
			{"IX", re("text", "hel lo # a comment", "ix"), []string{"i1", "i3"}},
			{"XMultiLine", re("text", "\\d+  # the year\n \\s score", "x"), []string{"i6"}},
			{"MX", re("text", "^ sec ond", "mx"), []string{"i2"}},
			{"QuotedLiteral", re("text", `^\Qa.b\E$`, ""), []string{"i4"}},
			{"UnquotedDot", re("text", `^a.b$`, ""), []string{"i4", "i5"}},
			{"Digits", re("text", `\d{4}`, ""), []string{"i6"}},
			{"CharClass", re("text", `[0-9]+$`, ""), []string{"i6"}},
			{"Alternation", re("text", `^(axb|a\.b)$`, ""), []string{"i4", "i5"}},
			{"EmptyPattern", re("text", "", ""), texts},
			{"OtherField", re("name", "^[ab]", ""), []string{"i1", "i2"}},
			{"DotPath", re("obj.s", "^de", ""), []string{"i1"}},
			{"Number", re("num", "1", ""), nil},
			{"Date", re("when", "2020", ""), nil},
			{"Object", re("obj", "x", ""), nil},
			{"Bool", re("flag", "true", ""), nil},
			{"NullIsNotAString", re("opt", "", ""), []string{"i2", "i4"}},
			{"MissingField", re("nope", "", ""), nil},
		})
	})

	t.Run("Logic", func(t *testing.T) {
		s := condStore(t, o, layout)
		runCondCases(t, s, condClass, []condCase{
			{"NilWhere", nil, allItems},
			{"And", storage.And{gt("name", "b"), gt("num", 0.0)}, []string{"i2", "i4"}},
			{"AndSingle", storage.And{eq("name", "beta")}, []string{"i2"}},
			{"Or", storage.Or{eq("name", "alpha"), eq("num", 10.0)}, []string{"i1", "i4"}},
			{"OrOverlapping", storage.Or{eq("name", "alpha"), eq("flag", true)}, []string{"i1", "i3"}},
			{"Nor", storage.Nor{eq("name", "alpha"), exists("name", false)}, []string{"i2", "i3", "i4", "i5"}},
			{"NorOfNe", storage.Nor{ne("opt", nil)}, []string{"i1", "i3", "i5", "i6", "i7"}},
			{"Nested", storage.Or{
				storage.And{eq("flag", true), lt("num", 0.0)},
				storage.And{exists("opt", true), storage.Nor{eq("tags", "z")}},
			}, []string{"i2", "i3"}},
			{"Deep", storage.And{storage.Or{storage.And{storage.Or{eq("name", "beta")}}}}, []string{"i2"}},
			{"AndOfOr", storage.And{storage.Or{eq("flag", true), eq("flag", false)}, storage.Or{exists("tags", false), eq("tags", "c")}}, []string{"i2", "i5"}},
			{"EmptyAnd", storage.And{}, allItems},
			{"EmptyOr", storage.Or{}, nil},
			{"EmptyNor", storage.Nor{}, allItems},
			{"AndOfEmptyOr", storage.And{storage.Or{}}, nil},
			{"OrOfEmptyAnd", storage.Or{storage.And{}}, allItems},
			{"NorOfEmptyOr", storage.Nor{storage.Or{}}, allItems},
			{"NorOfEmptyAnd", storage.Nor{storage.And{}}, nil},
			{"AndWithEmptyOr", storage.And{eq("name", "alpha"), storage.Or{}}, nil},
			{"OrWithEmptyAnd", storage.Or{eq("name", "alpha"), storage.And{}}, allItems},
		})
	})

	t.Run("StringsByCodePoint", func(t *testing.T) {
		// Decision: strings compare by code point, as MongoDB's default
		// (binary) collation does, not by a locale's collation.
		ctx, s := o.fresh(t)
		mustClass(t, ctx, s, "Word", "w", "String")
		mustInsert(t, ctx, s, "Word",
			obj("lower", `{"w":"apple"}`), obj("upper", `{"w":"Banana"}`),
			obj("under", `{"w":"_x"}`), obj("accent", `{"w":"éclair"}`), obj("digit", `{"w":"9"}`))
		for _, c := range []condCase{
			{"LtLower", lt("w", "a"), []string{"upper", "under", "digit"}},
			{"GtUpper", gt("w", "Z"), []string{"lower", "under", "accent"}},
			{"GtZ", gt("w", "z"), []string{"accent"}},
			{"LtUnderscore", lt("w", "_"), []string{"upper", "digit"}},
		} {
			checkCond(t, ctx, s, "Word", c)
		}
		got := mustFind(t, ctx, s, "Word", storage.Query{Order: []storage.Sort{{Field: "w"}}})
		wantIDs(t, "order by w", got, "digit", "upper", "under", "lower", "accent")
	})
}
