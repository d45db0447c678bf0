/* sweepfile.c — sweep files: a YAML file of keys (docs/design.md §3,
 * "Sweep files") read with libyaml and applied to an os_spec key by key
 * through the description tables (os_spec_set_key): an axis's results
 * column or a setting's key, each with the value its flag would take.
 *
 * The file is read whole (at most OS_SWEEP_FILE_MAX bytes, no NUL bytes)
 * and parsed as libyaml events into a small tree, bounded in depth and
 * size; anchors and aliases are refused, so no file can expand into more
 * than it holds. Every error is OS_EINPUT and names the file, the line and
 * the key.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orbitsweep/orbitsweep.h"

#ifndef OS_HAVE_YAML
os_status os_sweep_text_load(os_spec *spec, const char *name, const char *text, size_t len, char **output,
                             os_error *err)
{
    (void)spec, (void)text, (void)len, (void)output;
    os_set_error(err, "sweep file '%s': this orbitsweep was built without libyaml (Debian libyaml-dev)", name);
    return OS_EINPUT;
}

os_status os_sweep_file_load(os_spec *spec, const char *path, char **output, os_error *err)
{
    return os_sweep_text_load(spec, path, "", 0, output, err);
}
#else
#include <yaml.h>

#define OS_SWEEP_FILE_MAX (1 << 20) /* bytes */
#define MAX_DEPTH 8 /* blocks: [{scheduler: [{milestones: [4]}]}] is 7 deep */
#define MAX_NODES 100000

enum { N_SCALAR, N_SEQ, N_MAP };

typedef struct node {
    int type;
    size_t line;         /* 1-based */
    char *text;          /* a scalar's text */
    struct node **kids;  /* a sequence's items; a mapping's keys and values, alternating */
    size_t n;
} node;

typedef struct reader {
    yaml_parser_t p;
    const char *path;
    size_t nodes;
    os_error *err;
} reader;

static void node_free(node *x)
{
    if (!x) return;
    for (size_t i = 0; i < x->n; ++i) node_free(x->kids[i]);
    free(x->kids);
    free(x->text);
    free(x);
}

static os_status fail_at(os_error *err, const char *path, size_t line, const char *key, const char *msg)
{
    if (key)
        os_set_error(err, "%s:%zu: %.64s: %s", path, line, key, msg);
    else
        os_set_error(err, "%s:%zu: %s", path, line, msg);
    return OS_EINPUT;
}

/* The next event, or a YAML syntax error with its line. */
static os_status next_event(reader *r, yaml_event_t *ev)
{
    if (yaml_parser_parse(&r->p, ev)) return OS_OK;
    const size_t line = (r->p.problem_mark.line ? r->p.problem_mark.line : r->p.context_mark.line) + 1;
    char msg[300];
    snprintf(msg, sizeof msg, "malformed YAML: %s%s%s", r->p.problem ? r->p.problem : "parse error",
             r->p.context ? " " : "", r->p.context ? r->p.context : "");
    return fail_at(r->err, r->path, line, NULL, msg);
}

/* The node that starts with event *ev (consumed), and everything in it. */
static os_status read_node(reader *r, yaml_event_t *ev, int depth, node **out)
{
    *out = NULL;
    const size_t line = ev->start_mark.line + 1;
    const char *anchor = ev->type == YAML_SCALAR_EVENT           ? (const char *)ev->data.scalar.anchor
                         : ev->type == YAML_SEQUENCE_START_EVENT ? (const char *)ev->data.sequence_start.anchor
                         : ev->type == YAML_MAPPING_START_EVENT  ? (const char *)ev->data.mapping_start.anchor
                                                                 : NULL;
    if (ev->type == YAML_ALIAS_EVENT || anchor) {
        yaml_event_delete(ev);
        return fail_at(r->err, r->path, line, NULL, "anchors and aliases (&, *) are not supported");
    }
    if (depth > MAX_DEPTH || ++r->nodes > MAX_NODES) {
        yaml_event_delete(ev);
        return fail_at(r->err, r->path, line, NULL,
                       depth > MAX_DEPTH ? "nested too deeply for a sweep file" : "too many values for a sweep file");
    }
    node *x = calloc(1, sizeof *x);
    if (!x) return yaml_event_delete(ev), os_set_error(r->err, "out of memory"), OS_ERUNTIME;
    x->line = line;
    if (ev->type == YAML_SCALAR_EVENT) {
        x->type = N_SCALAR;
        x->text = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        const int has_nul = strlen(x->text ? x->text : "") != ev->data.scalar.length;
        yaml_event_delete(ev);
        if (!x->text) return free(x), os_set_error(r->err, "out of memory"), OS_ERUNTIME;
        if (has_nul) return node_free(x), fail_at(r->err, r->path, line, NULL, "a value holds a NUL character");
        *out = x;
        return OS_OK;
    }
    const yaml_event_type_t end = ev->type == YAML_SEQUENCE_START_EVENT ? YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT;
    x->type = ev->type == YAML_SEQUENCE_START_EVENT ? N_SEQ : N_MAP;
    yaml_event_delete(ev);
    size_t cap = 0;
    for (;;) {
        yaml_event_t e;
        os_status st = next_event(r, &e);
        if (st) return node_free(x), st;
        if (e.type == end) {
            yaml_event_delete(&e);
            break;
        }
        if (x->n == cap) {
            cap = cap ? 2 * cap : 8;
            node **k = realloc(x->kids, cap * sizeof *k);
            if (!k) return yaml_event_delete(&e), node_free(x), os_set_error(r->err, "out of memory"), OS_ERUNTIME;
            x->kids = k;
        }
        if ((st = read_node(r, &e, depth + 1, &x->kids[x->n]))) return node_free(x), st;
        x->n += 1;
    }
    *out = x;
    return OS_OK;
}

/* The file's one document as a tree (NULL for an empty file). */
static os_status read_tree(const char *path, const unsigned char *text, size_t len, node **root, os_error *err)
{
    reader r = {.path = path, .err = err};
    *root = NULL;
    if (!yaml_parser_initialize(&r.p)) return os_set_error(err, "out of memory"), OS_ERUNTIME;
    yaml_parser_set_input_string(&r.p, text, len);
    yaml_event_t ev;
    os_status st = OS_OK;
    int docs = 0;
    while (!st && !(st = next_event(&r, &ev))) {
        const yaml_event_type_t t = ev.type;
        const size_t line = ev.start_mark.line + 1;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
            yaml_event_delete(&ev);
            st = fail_at(err, path, line, NULL, "more than one YAML document (---) in a sweep file");
        } else if (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT ||
                   t == YAML_ALIAS_EVENT) {
            st = read_node(&r, &ev, 1, root);
        } else {
            yaml_event_delete(&ev);
        }
    }
    yaml_parser_delete(&r.p);
    if (st) node_free(*root), *root = NULL;
    return st;
}

/* ------------------------------------------------------------------------ */
/* applying the tree to a spec                                               */

typedef struct loader {
    os_spec *spec;
    const char *path;
    char **output;
    os_error *err;
} loader;

/* Keys a sweep file has besides the axes and settings. */
static const char *const file_keys[] = {"output", "blocks"};

/* A scheduler written as a mapping, {name: multistep, milestones: [4, 8], gamma: 0.8},
 * as its spec string "multistep:milestones=4/8,gamma=0.8". */
static os_status sched_text(loader *ld, const node *m, char *buf, size_t size)
{
    const char *name = NULL;
    for (size_t i = 0; i + 1 < m->n; i += 2)
        if (m->kids[i]->type == N_SCALAR && strcmp(m->kids[i]->text, "name") == 0 && m->kids[i + 1]->type == N_SCALAR)
            name = m->kids[i + 1]->text;
    if (!name) return fail_at(ld->err, ld->path, m->line, "scheduler", "a scheduler mapping needs a 'name'");
    size_t w = (size_t)snprintf(buf, size, "%s", name);
    char sep = ':';
    for (size_t i = 0; i + 1 < m->n && w < size; i += 2) {
        const node *k = m->kids[i], *v = m->kids[i + 1];
        if (k->type != N_SCALAR) return fail_at(ld->err, ld->path, k->line, "scheduler", "a key must be a name");
        if (strcmp(k->text, "name") == 0) continue;
        w += (size_t)snprintf(buf + w, size - w, "%c%s=", sep, k->text);
        sep = ',';
        if (v->type == N_SCALAR) {
            w += (size_t)snprintf(buf + w, size - w, "%s", v->text);
        } else if (v->type == N_SEQ) { /* list values are joined by / */
            for (size_t j = 0; j < v->n && w < size; ++j) {
                if (v->kids[j]->type != N_SCALAR)
                    return fail_at(ld->err, ld->path, v->kids[j]->line, k->text, "expected a number");
                w += (size_t)snprintf(buf + w, size - w, "%s%s", j ? "/" : "", v->kids[j]->text);
            }
        } else {
            return fail_at(ld->err, ld->path, v->line, k->text, "expected a value or a list");
        }
    }
    if (w >= size) return fail_at(ld->err, ld->path, m->line, "scheduler", "the scheduler spec is too long");
    return OS_OK;
}

/* Prefix the spec's message with the file, line and key. */
static os_status located(loader *ld, os_status st, size_t line, const char *key)
{
    if (st != OS_EINPUT) return st;
    char msg[sizeof ld->err->msg];
    snprintf(msg, sizeof msg, "%s", ld->err->msg);
    return fail_at(ld->err, ld->path, line, key, msg);
}

static int is_axis(const char *key)
{
    for (int a = 0; a < OS_AX_COUNT; ++a)
        if (strcmp(key, os_axes[a].column) == 0) return 1;
    return 0;
}

static int axis_of(const char *key)
{
    for (int a = 0; a < OS_AX_COUNT; ++a)
        if (strcmp(key, os_axes[a].column) == 0) return a;
    return -1;
}

/* One key: its value (a scalar, a list; for a scheduler also mappings). */
static os_status apply_key(loader *ld, const char *key, const node *v, size_t line)
{
    char buf[1024];
    if (!is_axis(key) && os_setting_find(key) < 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "unknown key (did you mean '%s'?)",
                 os_key_nearest(key, file_keys, (int)(sizeof file_keys / sizeof file_keys[0])));
        return fail_at(ld->err, ld->path, line, key, msg);
    }
    const int sched = strcmp(key, "scheduler") == 0;
    if (v->type == N_MAP && !sched) return fail_at(ld->err, ld->path, v->line, key, "expected a value or a list");
    if (v->type == N_SCALAR || v->type == N_MAP) {
        const char *text = v->text;
        if (v->type == N_MAP) {
            os_status st = sched_text(ld, v, buf, sizeof buf);
            if (st) return st;
            text = buf;
        }
        return located(ld, os_spec_set_key(ld->spec, key, text, 1, ld->err), v->line, key);
    }
    if (v->n == 0) return fail_at(ld->err, ld->path, v->line, key, "an empty list");
    if (!is_axis(key)) { /* a setting takes one value; --devices a comma-separated list */
        const int k = os_setting_find(key);
        if (os_settings[k].kind != OS_V_DEVICES)
            return fail_at(ld->err, ld->path, v->line, key, "takes one value, not a list");
        size_t w = 0;
        for (size_t i = 0; i < v->n && w < sizeof buf; ++i) {
            if (v->kids[i]->type != N_SCALAR) return fail_at(ld->err, ld->path, v->kids[i]->line, key, "expected a GPU number");
            w += (size_t)snprintf(buf + w, sizeof buf - w, "%s%s", i ? "," : "", v->kids[i]->text);
        }
        if (w >= sizeof buf) return fail_at(ld->err, ld->path, v->line, key, "too long a list");
        return located(ld, os_spec_set_key(ld->spec, key, buf, 1, ld->err), v->line, key);
    }
    for (size_t i = 0; i < v->n; ++i) {
        const node *item = v->kids[i];
        const char *text = item->text;
        if (item->type == N_MAP && sched) {
            os_status st = sched_text(ld, item, buf, sizeof buf);
            if (st) return st;
            text = buf;
        } else if (item->type != N_SCALAR) {
            return fail_at(ld->err, ld->path, item->line, key, "expected a value in the list");
        }
        os_status st = located(ld, os_spec_set_key(ld->spec, key, text, i == 0, ld->err), item->line, key);
        if (st) return st;
    }
    return OS_OK;
}

/* A hyperparameter that none of the optimizers uses is an error, not a
 * value silently dropped: axis a was set at `line` for the optimizers in opts. */
static os_status check_used(loader *ld, int a, size_t line, const os_list *opts)
{
    if (!os_axes[a].hp) return OS_OK;
    for (size_t o = 0; o < opts->n; ++o)
        if (os_axis_used(a, (int)opts->v[o])) return OS_OK;
    char msg[400], users[256] = "";
    size_t w = 0;
    for (int k = 0; k < OS_OPT_COUNT && w < sizeof users; ++k)
        if (os_axis_used(a, k)) w += (size_t)snprintf(users + w, sizeof users - w, "%s%s", w ? ", " : "", os_optimizer_name(k));
    snprintf(msg, sizeof msg, "no optimizer here uses it (%s %s; it is used by %s)",
             opts->n == 1 ? "the optimizer is" : "the optimizers are",
             opts->n ? os_optimizer_name((int)opts->v[0]) : "none", users);
    return fail_at(ld->err, ld->path, line, os_axes[a].column, msg);
}

/* The keys of mapping m; block: m is one block of the grid (axes only).
 * lines[a] gets the line of each axis it sets (0: not set). */
static os_status apply_map(loader *ld, const node *m, int block, size_t lines[OS_AX_COUNT])
{
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        const node *k = m->kids[i], *v = m->kids[i + 1];
        if (k->type != N_SCALAR) return fail_at(ld->err, ld->path, k->line, NULL, "a key must be a name");
        for (size_t j = 0; j < i; j += 2)
            if (m->kids[j]->type == N_SCALAR && strcmp(m->kids[j]->text, k->text) == 0)
                return fail_at(ld->err, ld->path, k->line, k->text, "given twice");
        if (strcmp(k->text, "blocks") == 0) {
            if (block) return fail_at(ld->err, ld->path, k->line, k->text, "blocks cannot hold blocks");
            continue; /* after the top level's keys */
        }
        if (strcmp(k->text, "output") == 0) {
            if (block) return fail_at(ld->err, ld->path, k->line, k->text, "one output for the whole sweep: put it at the top level");
            if (v->type != N_SCALAR || !*v->text) return fail_at(ld->err, ld->path, v->line, k->text, "expected a file name");
            if (ld->output) {
                char *o = strdup(v->text);
                if (!o) return os_set_error(ld->err, "out of memory"), OS_ERUNTIME;
                free(*ld->output);
                *ld->output = o;
            }
            continue;
        }
        if (block && !is_axis(k->text) && os_setting_find(k->text) >= 0 &&
            os_settings[os_setting_find(k->text)].kind != OS_V_SAMPLE)
            return fail_at(ld->err, ld->path, k->line, k->text,
                           "a setting of the whole sweep, not an axis: put it at the top level");
        os_status st = apply_key(ld, k->text, v, k->line);
        if (st) return st;
        const int a = axis_of(k->text);
        if (a >= 0) lines[a] = k->line;
    }
    return OS_OK;
}

/* One block: a copy of the top level's axes with the block's keys applied. */
static os_status apply_block(loader *ld, const node *m)
{
    if (m->type != N_MAP) return fail_at(ld->err, ld->path, m->line, "blocks", "each block is a mapping of keys");
    size_t b, lines[OS_AX_COUNT] = {0};
    os_status st = os_spec_add_block(ld->spec, &b, ld->err);
    if (st) return st;
    os_spec_swap_axes(ld->spec, &ld->spec->blocks[b]);
    st = apply_map(ld, m, 1, lines);
    for (int a = 0; a < OS_AX_COUNT && !st; ++a)
        if (lines[a]) st = check_used(ld, a, lines[a], &ld->spec->axis[OS_AX_OPTIMIZER]);
    os_spec_swap_axes(ld->spec, &ld->spec->blocks[b]);
    return st;
}

static os_status apply_tree(loader *ld, const node *root)
{
    if (!root) return OS_OK; /* an empty file: the defaults */
    const node *blocks = NULL;
    size_t lines[OS_AX_COUNT] = {0};
    os_status st = OS_OK;
    if (root->type == N_SEQ) {
        blocks = root; /* a list of blocks, no top level */
    } else if (root->type == N_MAP) {
        if ((st = apply_map(ld, root, 0, lines))) return st;
        for (size_t i = 0; i + 1 < root->n; i += 2)
            if (strcmp(root->kids[i]->text, "blocks") == 0) {
                blocks = root->kids[i + 1];
                if (blocks->type != N_SEQ || blocks->n == 0)
                    return fail_at(ld->err, ld->path, blocks->line, "blocks", "expected a list of blocks");
            }
    } else {
        return fail_at(ld->err, ld->path, root->line, NULL, "a sweep file is a mapping of keys (key: value)");
    }
    if (blocks) {
        os_spec_drop_blocks(ld->spec); /* a file's blocks are the grid */
        for (size_t i = 0; i < blocks->n && !st; ++i) st = apply_block(ld, blocks->kids[i]);
    }
    /* the top level's hyperparameters against every optimizer they reach */
    os_list all = {0};
    for (size_t b = 0; b < os_spec_n_blocks(ld->spec) && !st; ++b) {
        const int *given;
        const os_list *opts = &os_spec_block_axes(ld->spec, b, &given)[OS_AX_OPTIMIZER];
        for (size_t o = 0; o < opts->n && !st; ++o) st = os_list_push(&all, opts->v[o], ld->err);
    }
    for (int a = 0; a < OS_AX_COUNT && !st; ++a)
        if (lines[a]) st = check_used(ld, a, lines[a], &all);
    free(all.v);
    return st ? st : os_spec_compact_scheds(ld->spec, ld->err);
}

os_status os_sweep_text_load(os_spec *spec, const char *name, const char *text, size_t len, char **output,
                             os_error *err)
{
    if (len > OS_SWEEP_FILE_MAX) {
        os_set_error(err, "sweep file '%s': larger than %d bytes", name, OS_SWEEP_FILE_MAX);
        return OS_EINPUT;
    }
    const char *nul = memchr(text, 0, len);
    if (nul) {
        size_t line = 1;
        for (const char *p = text; p < nul; ++p) line += *p == '\n';
        return fail_at(err, name, line, NULL, "a NUL byte: not a text file");
    }
    node *root = NULL;
    os_status st = read_tree(name, (const unsigned char *)text, len, &root, err);
    if (!st) {
        loader ld = {spec, name, output, err};
        st = apply_tree(&ld, root);
    }
    node_free(root);
    return st;
}

os_status os_sweep_file_load(os_spec *spec, const char *path, char **output, os_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return os_set_error(err, "sweep file '%s': %s", path, strerror(errno)), OS_EINPUT;
    unsigned char *text = malloc(OS_SWEEP_FILE_MAX + 1);
    if (!text) return fclose(f), os_set_error(err, "out of memory"), OS_ERUNTIME;
    const size_t len = fread(text, 1, OS_SWEEP_FILE_MAX + 1, f);
    const int bad = ferror(f);
    fclose(f);
    os_status st = bad ? OS_EINPUT : OS_OK;
    if (bad)
        os_set_error(err, "sweep file '%s': cannot read it", path);
    else
        st = os_sweep_text_load(spec, path, (const char *)text, len, output, err);
    free(text);
    return st;
}
#endif
