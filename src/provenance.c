/* provenance.c — the sidecar beside every table (provenance.h).
 *
 * The canonical spec is a JSON object built from the description tables:
 * every axis (whether it was given — for the axes inside the optimizer,
 * where a given list replaces an optimizer's own default —, and its values
 * as the shortest text that reads back to the same number, optimizers,
 * schedulers and choice axes by name)
 * and every setting that is not an execution setting (threads, block,
 * backend, ... change no byte of the table), with the --data file replaced
 * by its SHA-256. Its unformatted text is hashed, so two specs that write
 * the same table have the same hash whatever order or form their flags
 * were typed in. A sweep of blocks or sample points adds its blocks and
 * the sampling settings (a plain grid's object does not have them).
 */
#include "provenance.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef OS_HAVE_SIDECAR
#include <cjson/cJSON.h>
#include <openssl/evp.h>

int os_sidecar_supported(void) { return 1; }

static void hex(const unsigned char *md, unsigned n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; ++i) out[2 * i] = digits[md[i] >> 4], out[2 * i + 1] = digits[md[i] & 15];
    out[2 * n] = 0;
}

static int sha256_text(const char *text, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL)) return -1;
    hex(md, n, out);
    return 0;
}

static os_status sha256_file(const char *path, char out[65], os_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        os_set_error(err, "--data: '%s': %s", path, strerror(errno));
        return OS_EINPUT;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    static unsigned char buf[1 << 16];
    size_t got;
    while (ok && (got = fread(buf, 1, sizeof buf, f)) > 0) ok = EVP_DigestUpdate(ctx, buf, got);
    const int bad_read = ferror(f);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    ok = ok && !bad_read && EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    fclose(f);
    if (!ok) {
        os_set_error(err, "--data: '%s': cannot read it to hash it", path);
        return bad_read ? OS_EINPUT : OS_ERUNTIME;
    }
    hex(md, n, out);
    return OS_OK;
}

static cJSON *text_item(double v)
{
    char b[40];
    os_fmt_double(b, sizeof b, v);
    return cJSON_CreateString(b);
}

/* A setting's value as text (NULL: not part of the canonical spec). */
static cJSON *setting_item(const os_spec *s, const os_setting_def *d)
{
    const char *at = (const char *)s + d->offset;
    char b[40];
    switch (d->kind) {
    case OS_V_INT: snprintf(b, sizeof b, "%d", *(const int *)at); break;
    case OS_V_U64: snprintf(b, sizeof b, "%llu", (unsigned long long)*(const uint64_t *)at); break;
    case OS_V_DOUBLE:
        return text_item(d->offset == offsetof(os_spec, offset) ? os_spec_offset(s) : *(const double *)at);
    case OS_V_CHOICE: return cJSON_CreateString(d->choices[*(const int *)at]);
    default: return NULL; /* strings (--data: hashed instead) and device lists */
    }
    return cJSON_CreateString(b);
}

/* The SHA-256 of a numeric axis's values as the sidecar would list them:
 * the unformatted JSON array of their texts, ["0.0001","0.001",...],
 * hashed as it is formatted (never held whole). 0 when it failed. */
static int values_sha256(const os_list *l, char out[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, "[", 1);
    for (size_t i = 0; ok && i < l->n; ++i) {
        char b[48];
        size_t n = 0;
        if (i) b[n++] = ',';
        b[n++] = '"';
        n += (size_t)os_fmt_double(b + n, sizeof b - n - 1, l->v[i]);
        b[n++] = '"';
        ok = EVP_DigestUpdate(ctx, b, n);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    ok = ok && EVP_DigestUpdate(ctx, "]", 1) && EVP_DigestFinal_ex(ctx, md, &n);
    EVP_MD_CTX_free(ctx);
    if (ok) hex(md, n, out);
    return ok;
}

/* The axes object of a spec or of one of its blocks: each axis, whether
 * it was given, its values, and its distribution when it has one. A
 * numeric axis of more than OS_SIDECAR_LISTED values (logspace(-4,0,10^6))
 * has its count and the SHA-256 of its values' list instead, so a sidecar
 * stays small and is built in bounded memory; the spec's hash still
 * depends on every value and on nothing else. 0 when out of memory. */
static int add_axes(cJSON *parent, const os_spec *s, const os_list *axis, const int *given, const int *dist)
{
    static const char *const dist_names[] = {"list", "uniform", "log_uniform", "int_uniform"};
    cJSON *axes = cJSON_AddObjectToObject(parent, "axes");
    for (int a = 0; a < OS_AX_COUNT && axes; ++a) {
        cJSON *ax = cJSON_AddObjectToObject(axes, os_axes[a].column), *vals;
        const int outer = os_axes[a].nest < os_axes[OS_AX_OPTIMIZER].nest; /* dtype ... target: no defaults */
        if (!ax || (!outer && !cJSON_AddBoolToObject(ax, "given", given[a]))) return 0;
        if (axis[a].n > OS_SIDECAR_LISTED && (os_axes[a].type == OS_AXT_REAL || os_axes[a].type == OS_AXT_INT)) {
            char sha[65];
            if (!cJSON_AddNumberToObject(ax, "count", (double)axis[a].n) || !values_sha256(&axis[a], sha) ||
                !cJSON_AddStringToObject(ax, "values_sha256", sha))
                return 0;
            if (dist[a] != OS_DIST_LIST && !cJSON_AddStringToObject(ax, "distribution", dist_names[dist[a]])) return 0;
            continue;
        }
        if (!(vals = cJSON_AddArrayToObject(ax, "values"))) return 0;
        for (size_t i = 0; i < axis[a].n; ++i) {
            const double v = axis[a].v[i];
            cJSON *it = os_axes[a].type == OS_AXT_OPT     ? cJSON_CreateString(os_optimizer_name((int)v))
                        : os_axes[a].type == OS_AXT_SCHED ? cJSON_CreateString(s->scheds[(size_t)v].name)
                        : os_axes[a].type == OS_AXT_CHOICE ? cJSON_CreateString(os_axis_choices(a)[(int)v])
                                                          : text_item(v);
            if (!cJSON_AddItemToArray(vals, it)) return 0;
        }
        if (dist[a] != OS_DIST_LIST && !cJSON_AddStringToObject(ax, "distribution", dist_names[dist[a]])) return 0;
    }
    return axes != NULL;
}

/* The canonical spec object (provenance.c's header comment). A sweep of
 * blocks or of sample points adds its blocks (axes, sampling, points) and
 * the sampling settings; a plain grid's object is without them. */
static cJSON *canonical_spec(const os_spec *s, const char *data_sha)
{
    cJSON *spec = cJSON_CreateObject();
    if (!spec || !add_axes(spec, s, s->axis, s->given, s->dist)) return cJSON_Delete(spec), NULL;
    int sampled = 0;
    for (size_t b = 0; b < os_spec_n_blocks(s); ++b) {
        const int *dist;
        int64_t n;
        sampled |= os_spec_block_sampling(s, b, &dist, &n) != OS_SAMPLE_GRID;
    }
    if (s->n_blocks || sampled) {
        static const char *const sample_names[] = {"grid", "random", "sobol"};
        cJSON *blocks = cJSON_AddArrayToObject(spec, "blocks");
        for (size_t b = 0; b < os_spec_n_blocks(s) && blocks; ++b) {
            const int *given, *dist;
            int64_t n;
            const os_list *axis = os_spec_block_axes(s, b, &given);
            const int kind = os_spec_block_sampling(s, b, &dist, &n);
            cJSON *blk = cJSON_CreateObject();
            if (!cJSON_AddItemToArray(blocks, blk) || !add_axes(blk, s, axis, given, dist) ||
                !cJSON_AddStringToObject(blk, "sample", sample_names[kind]) ||
                (kind && !cJSON_AddNumberToObject(blk, "points", (double)n)))
                return cJSON_Delete(spec), NULL;
        }
        if (!blocks) return cJSON_Delete(spec), NULL;
    }
    cJSON *set = cJSON_AddObjectToObject(spec, "settings");
    for (int k = 0; k < os_n_settings && set; ++k) {
        const os_setting_def *d = &os_settings[k];
        if (d->section && strcmp(d->section, "execution") == 0) continue;
        if (d->section && strcmp(d->section, "sampling") == 0 && !sampled) continue; /* no sample, no bytes changed */
        cJSON *it = setting_item(s, d);
        if (it && !cJSON_AddItemToObject(set, d->key, it)) return cJSON_Delete(spec), NULL;
    }
    if (!set || (data_sha[0] && !cJSON_AddStringToObject(set, "data_sha256", data_sha)))
        return cJSON_Delete(spec), NULL;
    return spec;
}

os_status os_provenance_make(const os_spec *spec, const char *kind, const char *table, size_t n_trials,
                             os_provenance *out, os_error *err)
{
    memset(out, 0, sizeof *out);
    if (spec->data_file) {
        const os_status st = sha256_file(spec->data_file, out->data_sha256, err);
        if (st) return st;
    }
    cJSON *c = canonical_spec(spec, out->data_sha256);
    out->spec_json = c ? cJSON_PrintUnformatted(c) : NULL;
    cJSON_Delete(c);
    out->kind = strdup(kind);
    out->table = strdup(table);
    out->backend = strdup(spec->backend == OS_BACKEND_CUDA ? "cuda" : "cpu");
    out->version = strdup(OS_VERSION);
    out->data_file = spec->data_file ? strdup(spec->data_file) : NULL;
    out->trials = n_trials;
    out->count = n_trials;
    if (!out->spec_json || !out->kind || !out->table || !out->backend || !out->version ||
        (spec->data_file && !out->data_file) || sha256_text(out->spec_json, out->spec_hash)) {
        os_provenance_free(out);
        os_set_error(err, "out of memory for the table's provenance");
        return OS_ERUNTIME;
    }
    return OS_OK;
}

os_status os_sidecar_write(const char *path, const os_provenance *p, os_error *err)
{
    cJSON *root = cJSON_CreateObject(), *spec = cJSON_Parse(p->spec_json), *shard = NULL;
    int ok = root && spec;
    ok = ok && cJSON_AddStringToObject(root, "orbitsweep", p->version);
    ok = ok && cJSON_AddNumberToObject(root, "format", OS_SIDECAR_FORMAT);
    ok = ok && cJSON_AddStringToObject(root, "kind", p->kind);
    ok = ok && cJSON_AddStringToObject(root, "table", p->table);
    ok = ok && cJSON_AddStringToObject(root, "spec_sha256", p->spec_hash);
    ok = ok && cJSON_AddNumberToObject(root, "trials", (double)p->trials);
    ok = ok && cJSON_AddNumberToObject(root, "first", (double)p->first);
    ok = ok && cJSON_AddNumberToObject(root, "count", (double)p->count);
    if (ok && p->shard_n) {
        ok = (shard = cJSON_AddObjectToObject(root, "shard")) != NULL;
        ok = ok && cJSON_AddNumberToObject(shard, "k", p->shard_k) && cJSON_AddNumberToObject(shard, "n", p->shard_n);
    } else if (ok) {
        ok = cJSON_AddNullToObject(root, "shard") != NULL;
    }
    ok = ok && cJSON_AddStringToObject(root, "backend", p->backend);
    ok = ok && (p->data_file ? cJSON_AddStringToObject(root, "data_file", p->data_file)
                             : cJSON_AddNullToObject(root, "data_file"));
    ok = ok && (p->data_file ? cJSON_AddStringToObject(root, "data_sha256", p->data_sha256)
                             : cJSON_AddNullToObject(root, "data_sha256"));
    ok = ok && cJSON_AddStringToObject(root, "command", p->command ? p->command : "");
    if (ok) cJSON_AddItemToObject(root, "spec", spec), spec = NULL;
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    cJSON_Delete(spec);
    if (!text) {
        os_set_error(err, "out of memory for the table's provenance");
        return OS_ERUNTIME;
    }
    os_atomic_file af;
    os_status st = os_atomic_open(&af, path, err);
    if (!st) {
        fputs(text, af.f);
        fputc('\n', af.f);
        st = os_atomic_commit(&af, err);
    }
    free(text);
    return st;
}

static char *slurp(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = malloc(max + 1);
    const size_t n = b ? fread(b, 1, max + 1, f) : 0;
    fclose(f);
    if (!b || n > max) return free(b), NULL;
    b[n] = 0;
    return b;
}

static char *dup_string(const cJSON *o, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(it) ? strdup(it->valuestring) : NULL;
}

static int get_count(const cJSON *o, const char *key, size_t *out)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(it) || !(it->valuedouble >= 0) || it->valuedouble > 9e15) return -1;
    *out = (size_t)it->valuedouble;
    return (double)*out == it->valuedouble ? 0 : -1;
}

os_status os_sidecar_read(const char *path, const char *flag, os_provenance *out, os_error *err)
{
    memset(out, 0, sizeof *out);
    char *text = slurp(path, (size_t)1 << 24);
    if (!text) {
        os_set_error(err, "%s: '%s': %s", flag, path, errno ? strerror(errno) : "too large to be a sidecar");
        return OS_EINPUT;
    }
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *spec = cJSON_GetObjectItemCaseSensitive(root, "spec"),
                *shard = cJSON_GetObjectItemCaseSensitive(root, "shard");
    const char *hash = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "spec_sha256"));
    const char *data_sha = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "data_sha256"));
    int ok = cJSON_IsObject(root) && cJSON_IsObject(spec) && hash && strlen(hash) == 64;
    ok = ok && (out->version = dup_string(root, "orbitsweep")) && (out->kind = dup_string(root, "kind")) &&
         (out->table = dup_string(root, "table")) && (out->backend = dup_string(root, "backend")) &&
         (out->command = dup_string(root, "command")) && (out->spec_json = cJSON_PrintUnformatted(spec));
    ok = ok && !get_count(root, "trials", &out->trials) && !get_count(root, "first", &out->first) &&
         !get_count(root, "count", &out->count) && out->first + out->count <= out->trials;
    if (ok && cJSON_IsObject(shard)) {
        size_t k = 0, n = 0;
        ok = !get_count(shard, "k", &k) && !get_count(shard, "n", &n) && k >= 1 && k <= n && n <= 1000000;
        out->shard_k = (int)k, out->shard_n = (int)n;
    }
    if (ok) {
        snprintf(out->spec_hash, sizeof out->spec_hash, "%s", hash);
        snprintf(out->data_sha256, sizeof out->data_sha256, "%s", data_sha ? data_sha : "");
        out->data_file = dup_string(root, "data_file");
        char check[65]; /* the hash is of the spec it sits beside */
        ok = !sha256_text(out->spec_json, check) && strcmp(check, out->spec_hash) == 0;
    }
    cJSON_Delete(root);
    if (!ok) {
        os_provenance_free(out);
        os_set_error(err, "%s: '%s' is not an orbitsweep sidecar (or it was edited: its spec_sha256 does not match)",
                     flag, path);
        return OS_EINPUT;
    }
    return OS_OK;
}

int os_provenance_setting(const os_provenance *p, const char *key, char *buf, size_t size)
{
    cJSON *spec = cJSON_Parse(p->spec_json);
    const char *v = cJSON_GetStringValue(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "settings"), key));
    const int rc = v && (size_t)snprintf(buf, size, "%s", v) < size ? 0 : -1;
    cJSON_Delete(spec);
    return rc;
}

#else /* a build without cJSON or libcrypto: tables without sidecars */

#define NO_SIDECARS "this build has no sidecar support (rebuild with libcjson-dev and libssl-dev: scripts/setup.sh)"

int os_sidecar_supported(void) { return 0; }

os_status os_provenance_make(const os_spec *spec, const char *kind, const char *table, size_t n_trials,
                             os_provenance *out, os_error *err)
{
    memset(out, 0, sizeof *out);
    out->spec_json = strdup("{}"), out->kind = strdup(kind), out->table = strdup(table);
    out->backend = strdup(spec->backend == OS_BACKEND_CUDA ? "cuda" : "cpu"), out->version = strdup(OS_VERSION);
    out->trials = out->count = n_trials;
    if (!out->spec_json || !out->kind || !out->table || !out->backend || !out->version) {
        os_provenance_free(out);
        os_set_error(err, "out of memory for the table's provenance");
        return OS_ERUNTIME;
    }
    return OS_OK;
}

os_status os_sidecar_write(const char *path, const os_provenance *p, os_error *err)
{
    (void)path, (void)p, (void)err;
    return OS_OK;
}

os_status os_sidecar_read(const char *path, const char *flag, os_provenance *out, os_error *err)
{
    memset(out, 0, sizeof *out);
    os_set_error(err, "%s: '%s': " NO_SIDECARS, flag, path);
    return OS_EINPUT;
}

int os_provenance_setting(const os_provenance *p, const char *key, char *buf, size_t size)
{
    (void)p, (void)key, (void)buf, (void)size;
    return -1;
}
#endif

os_status os_provenance_command(os_provenance *p, int argc, char *const *argv, os_error *err)
{
    size_t len = 1;
    for (int i = 0; i < argc; ++i) len += 4 * strlen(argv[i]) + 3;
    char *o = malloc(len), *w = o;
    if (!o) {
        os_set_error(err, "out of memory for the table's provenance");
        return OS_ERUNTIME;
    }
    for (int i = 0; i < argc; ++i) {
        const char *a = argv[i];
        if (i) *w++ = ' ';
        const int plain = a[0] && strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                             "-_./=,:+@%^") == strlen(a);
        if (plain) {
            w += sprintf(w, "%s", a);
            continue;
        }
        *w++ = '\''; /* single quotes; a quote inside as '\'' */
        for (; *a; ++a) {
            if (*a == '\'') memcpy(w, "'\\''", 4), w += 4;
            else *w++ = *a;
        }
        *w++ = '\'';
    }
    *w = 0;
    free(p->command);
    p->command = o;
    return OS_OK;
}

char *os_sidecar_path(const char *table)
{
    const size_t n = strlen(table);
    char *p = malloc(n + 6);
    if (p) memcpy(p, table, n), memcpy(p + n, ".json", 6);
    return p;
}

int os_sidecar_is_ours(const char *path)
{
    os_provenance p;
    os_error e;
    if (os_sidecar_read(path, "-o", &p, &e)) return 0;
    os_provenance_free(&p);
    return 1;
}

void os_provenance_free(os_provenance *p)
{
    free(p->spec_json);
    free(p->data_file);
    free(p->kind);
    free(p->table);
    free(p->backend);
    free(p->version);
    free(p->command);
    memset(p, 0, sizeof *p);
}
