// OpenSSL 3 for Swift. Several calls the TLS layer needs are macros over
// SSL_CTX_ctrl/BIO_ctrl/SSL_ctrl, which Swift cannot import: each gets a
// static inline function here with the macro's name in lower camel case.
#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/evp.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/rand.h>
#include <string.h>

static inline int copenssl_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}
static inline int copenssl_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_max_proto_version(ctx, version);
}
static inline int copenssl_SSL_CTX_get_min_proto_version(SSL_CTX *ctx) {
    return (int)SSL_CTX_get_min_proto_version(ctx);
}
static inline int copenssl_SSL_CTX_get_max_proto_version(SSL_CTX *ctx) {
    return (int)SSL_CTX_get_max_proto_version(ctx);
}
static inline long copenssl_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}
static inline long copenssl_BIO_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}
static inline int copenssl_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}
static inline int copenssl_BIO_set_mem_eof_return(BIO *bio, int value) {
    return (int)BIO_set_mem_eof_return(bio, value);
}
static inline long copenssl_SSL_CTX_set_options(SSL_CTX *ctx, uint64_t options) {
    return (long)SSL_CTX_set_options(ctx, options);
}
/// The options Python's SSLContext sets: no compression (CRIME), the
/// server's cipher order, no renegotiation. SSL_OP_* are SSL_OP_BIT macros.
static inline uint64_t copenssl_default_options(void) {
    return SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION;
}
/// OPENSSL_free is a macro over CRYPTO_free with the caller's file and line.
static inline void copenssl_OPENSSL_free(void *pointer) {
    OPENSSL_free(pointer);
}
/// The stack of names from X509_get_ext_d2i(NID_subject_alt_name), freed
/// with GENERAL_NAME_free for each (a macro pair in OpenSSL).
static inline void copenssl_GENERAL_NAMES_free(GENERAL_NAMES *names) {
    sk_GENERAL_NAME_pop_free(names, GENERAL_NAME_free);
}
static inline int copenssl_sk_GENERAL_NAME_num(const GENERAL_NAMES *names) {
    return sk_GENERAL_NAME_num(names);
}
static inline GENERAL_NAME *copenssl_sk_GENERAL_NAME_value(const GENERAL_NAMES *names, int index) {
    return sk_GENERAL_NAME_value(names, index);
}
static inline void copenssl_sk_X509_INFO_pop_free(STACK_OF(X509_INFO) *infos) {
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
}
static inline int copenssl_sk_X509_INFO_num(const STACK_OF(X509_INFO) *infos) {
    return sk_X509_INFO_num(infos);
}
static inline X509_INFO *copenssl_sk_X509_INFO_value(const STACK_OF(X509_INFO) *infos, int index) {
    return sk_X509_INFO_value(infos, index);
}
/// The `x509` member of an X509_INFO, which Swift sees only opaquely.
static inline X509 *copenssl_X509_INFO_x509(X509_INFO *info) {
    return info->x509;
}
/// The IA5 string of a GENERAL_NAME of type GEN_DNS, or NULL.
static inline const ASN1_STRING *copenssl_GENERAL_NAME_dns(const GENERAL_NAME *name) {
    return name->type == GEN_DNS ? name->d.dNSName : NULL;
}
static inline const ASN1_STRING *copenssl_GENERAL_NAME_ip(const GENERAL_NAME *name) {
    return name->type == GEN_IPADD ? name->d.iPAddress : NULL;
}
static inline int copenssl_SSL_CTX_clear_chain_certs(SSL_CTX *ctx) {
    return (int)SSL_CTX_clear_chain_certs(ctx);
}
/// Takes its own reference to `cert`.
static inline int copenssl_SSL_CTX_add1_chain_cert(SSL_CTX *ctx, X509 *cert) {
    return (int)SSL_CTX_add1_chain_cert(ctx, cert);
}
/// EVP_EC_gen is a macro over the variadic EVP_PKEY_Q_keygen.
static inline EVP_PKEY *copenssl_EVP_EC_gen(const char *curve) {
    return EVP_EC_gen(curve);
}
/// Adds an extension given as `openssl req`'s config text (e.g.
/// "DNS:localhost,IP:127.0.0.1" for NID_subject_alt_name) to a
/// self-issued certificate; X509V3_CTX is a stack struct Swift cannot build.
static inline int copenssl_X509_add_extension_text(X509 *cert, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (extension == NULL) return 0;
    int ok = X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
    return ok;
}

/// The server name (SNI) callback and its argument: macros over SSL_CTX_callback_ctrl and SSL_CTX_ctrl.
static inline long copenssl_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*callback)(SSL *, int *, void *)) {
    return SSL_CTX_set_tlsext_servername_callback(ctx, callback);
}
static inline long copenssl_SSL_CTX_set_tlsext_servername_arg(SSL_CTX *ctx, void *argument) {
    return SSL_CTX_set_tlsext_servername_arg(ctx, argument);
}

// MARK: The TLS layer's BIO

/// The ciphertext one TLS connection exchanges with OpenSSL (see the
/// Swift TLSSession): `in` is what the peer sent that OpenSSL has not read
/// yet, borrowed from the buffer the socket read into; `out` is where
/// OpenSSL writes ciphertext until the layer hands it to the socket.
/// OpenSSL copies through this BIO straight into and out of its own record
/// buffers: no memory BIO in between, and nothing held while idle.
typedef struct {
    const unsigned char *in;
    size_t in_length;
    unsigned char *out;
    size_t out_length;
    size_t out_capacity;
} copenssl_channel;

static inline int copenssl_channel_read(BIO *bio, char *into, int length) {
    copenssl_channel *channel = (copenssl_channel *)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (channel->in_length == 0) {
        // Not the end of the stream: the layer feeds more when the socket has it.
        BIO_set_retry_read(bio);
        return -1;
    }
    size_t count = (size_t)length < channel->in_length ? (size_t)length : channel->in_length;
    memcpy(into, channel->in, count);
    channel->in += count;
    channel->in_length -= count;
    return (int)count;
}

static inline int copenssl_channel_write(BIO *bio, const char *from, int length) {
    copenssl_channel *channel = (copenssl_channel *)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    size_t room = channel->out_capacity - channel->out_length;
    if (room == 0) {
        // The layer sends what is there and calls OpenSSL again.
        BIO_set_retry_write(bio);
        return -1;
    }
    size_t count = (size_t)length < room ? (size_t)length : room;
    memcpy(channel->out + channel->out_length, from, count);
    channel->out_length += count;
    return (int)count;
}

static inline long copenssl_channel_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)number;
    (void)pointer;
    copenssl_channel *channel = (copenssl_channel *)BIO_get_data(bio);
    switch (command) {
    case BIO_CTRL_FLUSH: return 1;  // the layer sends `out` after every call into OpenSSL
    case BIO_CTRL_PENDING: return channel ? (long)channel->in_length : 0;
    case BIO_CTRL_WPENDING: return channel ? (long)channel->out_length : 0;
    default: return 0;
    }
}

static inline int copenssl_channel_create(BIO *bio) {
    BIO_set_init(bio, 1);
    return 1;
}

static inline int copenssl_channel_destroy(BIO *bio) {
    // The channel belongs to the Swift session, which frees it.
    BIO_set_data(bio, NULL);
    BIO_set_init(bio, 0);
    return 1;
}

/// Empties the thread's error queue before an SSL_* call, as SSL_get_error
/// needs, when something is in it: clearing an empty queue costs four times
/// as much as looking, on every record.
static inline void copenssl_clear_stale_errors(void) {
    if (ERR_peek_error() != 0) ERR_clear_error();
}

/// The BIO type over a copenssl_channel; make it once per process.
static inline BIO_METHOD *copenssl_channel_method_new(void) {
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "asyncio TLS channel");
    if (method == NULL) return NULL;
    BIO_meth_set_read(method, copenssl_channel_read);
    BIO_meth_set_write(method, copenssl_channel_write);
    BIO_meth_set_ctrl(method, copenssl_channel_ctrl);
    BIO_meth_set_create(method, copenssl_channel_create);
    BIO_meth_set_destroy(method, copenssl_channel_destroy);
    return method;
}


#endif
