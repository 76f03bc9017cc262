package parse

import (
	"context"

	"github.com/parsego/parse/storage"
)

type txKey struct{}

// Tx runs fn in one database transaction: every App call made with the
// context fn receives joins it, and all of its writes commit when fn returns
// nil or roll back when it returns an error, which Tx returns. After
// triggers of the transaction's writes run once it has committed, and not
// at all when it rolls back.
func (a *App) Tx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, inTx := ctx.Value(txKey{}).(storage.Store); inTx {
		// Joined: the outer Tx runs the after triggers.
		return a.storeFor(ctx).Tx(ctx, func(storage.Store) error { return fn(ctx) })
	}
	var after []func()
	err := a.storeFor(ctx).Tx(ctx, func(tx storage.Store) error {
		return fn(context.WithValue(context.WithValue(ctx, txKey{}, tx), afterCommitKey{}, &after))
	})
	if err != nil {
		// Classes created or changed inside the transaction were rolled
		// back with it: the cached schema must not remember them.
		a.schema.invalidate("")
		return err
	}
	for _, run := range after {
		run()
	}
	return nil
}

// storeFor returns the transaction ctx carries, or the App's store.
func (a *App) storeFor(ctx context.Context) storage.Store {
	if tx, ok := ctx.Value(txKey{}).(storage.Store); ok {
		return tx
	}
	return a.store
}
