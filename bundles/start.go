package bundles

import (
	"context"
	"errors"
)

// FirstLoad loads the snapshot certgate starts with (load, whose policy is
// p). It is built from the bundle an earlier run persisted, if any.
// Without one, or with one that no longer reads or loads, it returns the
// zero S and no error: certgate then starts with no snapshot, failing
// closed (every check is denied with 500 no_snapshot, /readyz answers 503)
// until a downloaded bundle activates. Any other failure (a CA file that
// does not load) is an error.
func FirstLoad[S any](ctx context.Context, p *Policy, load func(context.Context) (S, error)) (S, error) {
	var none S
	persisted, err := p.LoadPersisted()
	if err != nil {
		p.log.ErrorContext(ctx, "the persisted bundle is not used", "error", err.Error())
		p.Forget(err)
	}
	snap, err := load(ctx)
	if err != nil && persisted && !errors.Is(err, ErrNoBundle) {
		p.log.ErrorContext(ctx, "the persisted bundle does not load; waiting for a download", "error", err.Error())
		p.Forget(err)
		snap, err = load(ctx)
	}
	if errors.Is(err, ErrNoBundle) {
		p.log.WarnContext(ctx, "no bundle to serve yet: every check is denied (500 no_snapshot) and /readyz is 503 until the bundle activates")
		return none, nil
	}
	if err != nil {
		return none, err
	}
	p.Served()
	p.log.InfoContext(ctx, "serving the persisted bundle until a download replaces it", "revision", p.Status()[0].Revision)
	return snap, nil
}
