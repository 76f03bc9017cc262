// Package storagetest is the conformance suite every storage.Store adapter
// must pass. It tests the contract written in package storage's doc comments,
// with concrete values, so that the PostgreSQL adapter and the embedded one
// answer every request the same way.
//
// An adapter runs the suite from one of its own tests, giving Run a function
// that opens a fresh, empty store for the (sub)test it is given:
//
//	package postgres_test
//
//	import (
//		"testing"
//
//		"github.com/parsego/parse/internal/pgtest"
//		"github.com/parsego/parse/storage"
//		"github.com/parsego/parse/storage/storagetest"
//	)
//
//	func TestStorage(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store {
//			return pgtest.NewStore(t)
//		})
//	}
//
// Every case runs as a parallel subtest and calls open once for its own store
// (a group of read-only cases may share one), so open must be safe for
// concurrent use, return a store without objects and without the classes the
// suite creates, and release the store itself (t.Cleanup): the suite never
// calls Close. Classes an adapter creates up front (_User, ...) are allowed;
// the suite uses its own class names.
//
// Subtests are grouped as Schema, Unique, InsertGet, Find, Conditions,
// OrderLimitSkip, Count, Update, ACL, Relations, Delete, Transactions,
// Concurrency and Errors, so one area can be run alone:
//
//	go test ./storage/postgres -run 'TestStorage/Conditions/Regex'
//
// Where the contract leaves a choice open, the suite asserts what a Parse
// user on MongoDB would expect; those decisions are noted on the cases that
// make them.
package storagetest
