"""peer_jax_vmap.py - "jax-vmap": jax + optax, vmap over trainings, lax.scan over updates.

Each training is written for one (Wa, Wb) with jax.grad of the masked MSE and
an optax optimizer (sgd, sgd with momentum, rmsprop, adam, learning rate per
training, MultiStepLR as an optax schedule of the update count); jax.vmap
maps it over each optimizer's group of trainings and two nested lax.scan
loops (epochs, minibatches) run the whole sweep as one jitted program. All
trainings share one permutation per epoch (orbitsweep's --shuffle shared).
The wall time includes jit compilation, which is reported beside it.
"""

import os

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")  # leave GPU memory to torch

import time  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

import sweep as sw  # noqa: E402


def pick_device(device):
    """'cpu', 'cuda' or 'auto' -> a jax device; 'cuda' without a GPU is an error."""
    if device == "auto":
        return jax.devices()[0]
    try:
        return jax.devices("gpu" if device == "cuda" else "cpu")[0]
    except RuntimeError as e:
        raise sw.DeviceUnavailable("jax has no %s device (%s)" % (device, e)) from e


def loss(params, q, y):
    """Masked MSE of one training on one minibatch; q = (x + c)²."""
    wa, wb = params
    s = 1 - q / wa ** 2
    masked = s < 0
    err = jnp.where(masked, 0.0, wb * jnp.sqrt(jnp.where(masked, 1.0, s)) - y)
    return jnp.sum(err ** 2) / jnp.maximum(jnp.sum(~masked), 1)


def make_tx(name, lr0, spec):
    """The optax optimizer of one training (torch.optim's hyperparameters)."""
    lr = lr0
    if spec.scheduler == "multistep":
        milestones = jnp.asarray(sw.MULTISTEP_MILESTONES)

        def lr(count):
            return lr0 * sw.MULTISTEP_GAMMA ** jnp.sum(count >= milestones)
    if name == "sgd":
        return optax.sgd(lr)
    if name == "momentum":
        return optax.sgd(lr, momentum=sw.MOMENTUM)
    if name == "rmsprop":
        return optax.rmsprop(lr, decay=sw.RMS_ALPHA, eps=sw.EPS, eps_in_sqrt=False)
    return optax.adam(lr, b1=sw.BETA1, b2=sw.BETA2, eps=sw.EPS)


def make_train(spec):
    """The whole sweep as one function of (key, q, y) -> per group (wa[n], wb[n])."""
    names = [name for name, _, _ in spec.groups()]
    n_batches = sw.N_POINTS // sw.BATCH

    def init(name, lrs):
        def one(lr0):
            params = (jnp.float32(sw.INIT_WA), jnp.float32(sw.INIT_WB))
            return params, make_tx(name, lr0, spec).init(params)
        return jax.vmap(one)(lrs)

    def step(name, carry, lrs, q, y):
        def one(params, state, lr0):
            updates, state = make_tx(name, lr0, spec).update(jax.grad(loss)(params, q, y),
                                                             state, params)
            return optax.apply_updates(params, updates), state
        return jax.vmap(one)(*carry, lrs)

    def train(key, lrs, q, y):
        def epoch(carry, key):
            perm = jax.random.permutation(key, sw.N_POINTS)
            batches = (q[perm].reshape(n_batches, sw.BATCH), y[perm].reshape(n_batches, sw.BATCH))

            def minibatch(carry, qy):
                return tuple(step(name, c, lrs, *qy) for name, c in zip(names, carry)), None
            return jax.lax.scan(minibatch, carry, batches)[0], None

        carry = tuple(init(name, lrs) for name in names)
        carry = jax.lax.scan(epoch, carry, jax.random.split(key, spec.epochs))[0]
        return tuple(params for params, _ in carry)

    return train


def run(spec, data, device="auto", threads=None, trials=None):
    """Train every trial of `spec` on data = (xs, ys); `trials` and `threads` are ignored
    (XLA sizes its own thread pool)."""
    assert sw.N_POINTS % sw.BATCH == 0, "lax.scan over equal minibatches"
    dev = pick_device(device)
    with jax.default_device(dev):
        t0 = time.perf_counter()
        shuffle_key = jax.random.PRNGKey(spec.seed)
        x, y = (jnp.asarray(d, dtype=jnp.float32) for d in data)
        q = (x + sw.OFFSET) ** 2
        lrs = jnp.asarray(spec.group_lrs(), dtype=jnp.float32)
        compiled = jax.jit(make_train(spec)).lower(shuffle_key, lrs, q, y).compile()
        t_compile = time.perf_counter() - t0
        groups = jax.block_until_ready(compiled(shuffle_key, lrs, q, y))
        wall = time.perf_counter() - t0
    finals = [(float(a), float(b)) for wa, wb in groups for a, b in zip(wa.tolist(), wb.tolist())]
    return sw.Result(wall, list(range(spec.trainings)), finals, dev.platform,
                     "includes %.2f s of jit compilation" % t_compile)
