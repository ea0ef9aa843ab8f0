/*
 * reverie's kernels for ONNX Runtime: element-wise activations the CPPN
 * generator spends most of its time in, written so the compiler vectorises
 * them. ONNX Runtime's own Sin calls the C library's sine one element at a
 * time (about 3 ns an element here); these take a fraction of that.
 *
 * Domain "ai.reverie", version 1, float tensors of any shape:
 *   Sine(x)  = sin(x), within 2e-7 for |x| <= 1e4 (the C library's sinf
 *              beyond, and for Inf and NaN)
 *   Gauss(x) = exp(-x*x), within 4 ulp; 0 once x*x > 87
 *
 * scripts/setup.sh builds this file into third_party/onnxruntime/
 * libreverie_kernels.so against the C API header onnxruntime_go ships; gen
 * registers it with every session (ONNX Runtime calls RegisterCustomOps).
 * It keeps no state between calls and allocates nothing, so any number of
 * sessions may run it at once.
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnxruntime_c_api.h"

#define DOMAIN "ai.reverie"

static const OrtApi *api;

/* Above this the three-part reduction by pi loses precision. */
#define SINE_LIMIT 1e4f

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define VECTOR_CLONES
#endif

static inline uint32_t bits(float f) {
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static inline float from_bits(uint32_t u) {
	float f;
	memcpy(&f, &u, 4);
	return f;
}

/*
 * sine1 is sin v on the fast path (|v| <= SINE_LIMIT): v = k*pi + r with k
 * rounded to nearest (the 1.5*2^23 trick rounds and leaves k's parity in
 * the low bit), pi in three parts so r is exact for |k| < 2^12, then an odd
 * degree-11 polynomial on r in [-pi/2, pi/2], negated for odd k.
 */
static inline float sine1(float v) {
	float t = v * 0.318309886183790672f + 12582912.0f;
	float k = t - 12582912.0f;
	float r = v - k * 3.140625f;
	r = r - k * 9.67502593994140625e-4f;
	r = r - k * 1.509957990978376432e-7f;
	float r2 = r * r;
	float p = -2.3889859e-08f;
	p = p * r2 + 2.7525562e-06f;
	p = p * r2 - 1.9840874e-04f;
	p = p * r2 + 8.3333310e-03f;
	p = p * r2 - 1.6666667e-01f;
	/* sin r has r's sign on [-pi/2, pi/2]: copying it keeps -0. */
	float s = copysignf(fabsf(r + r * r2 * p), r);
	return from_bits(bits(s) ^ (bits(t) << 31));
}

/*
 * gauss1 is exp(-v*v): -v^2 = m*ln2 + r, 2^m built in the exponent bits,
 * e^r by a degree-6 polynomial on [-ln2/2, ln2/2].
 */
static inline float gauss1(float v) {
	float u = -v * v;
	u = u < -87.0f ? -87.0f : u; /* keeps NaN */
	float t = u * 1.44269504088896341f + 12582912.0f;
	float m = t - 12582912.0f;
	float r = u - m * 0.693145751953125f;
	r = r - m * 1.428606765330187045e-6f;
	float p = 1.3888889e-3f;
	p = p * r + 8.3333333e-3f;
	p = p * r + 4.1666667e-2f;
	p = p * r + 1.6666667e-1f;
	p = p * r + 0.5f;
	p = p * r + 1.0f;
	p = p * r + 1.0f;
	int32_t e = (int32_t)(bits(t) & 0x7fffff) - 0x400000; /* m, from t's bits */
	return p * from_bits((uint32_t)(e + 127) << 23);
}

/*
 * Each kernel has two loops the compiler vectorises: one from x into y,
 * and one in place, for when ONNX Runtime hands the input's buffer over as
 * the output (the kernels allow it: see may_inplace). A loop over two
 * pointers that may overlap would fall back to one element at a time.
 */
#define LOOPS(NAME, F)                                                            \
	VECTOR_CLONES                                                                 \
	static void NAME##_apart(const float *restrict x, float *restrict y, size_t n) { \
		for (size_t i = 0; i < n; i++)                                            \
			y[i] = F(x[i]);                                                       \
	}                                                                             \
	VECTOR_CLONES                                                                 \
	static void NAME##_inplace(float *x, size_t n) {                              \
		for (size_t i = 0; i < n; i++)                                            \
			x[i] = F(x[i]);                                                       \
	}

LOOPS(sine, sine1)
LOOPS(gauss, gauss1)

/* any_far is whether some x is off the sine's fast path (NaN included). */
VECTOR_CLONES
static int any_far(const float *x, size_t n) {
	int far = 0;
	for (size_t i = 0; i < n; i++)
		far |= !(fabsf(x[i]) <= SINE_LIMIT);
	return far;
}

static void sine(const float *x, float *y, size_t n) {
	if (any_far(x, n)) {
		for (size_t i = 0; i < n; i++)
			y[i] = fabsf(x[i]) <= SINE_LIMIT ? sine1(x[i]) : sinf(x[i]);
	} else if (x == y) {
		sine_inplace(y, n);
	} else {
		sine_apart(x, y, n);
	}
}

static void gauss(const float *x, float *y, size_t n) {
	if (x == y)
		gauss_inplace(y, n);
	else
		gauss_apart(x, y, n);
}

typedef void (*unary_fn)(const float *, float *, size_t);

typedef struct {
	OrtCustomOp op;
	const char *name;
	unary_fn fn;
} unary_op;

static OrtStatusPtr compute(void *kernel, OrtKernelContext *ctx) {
	const unary_op *u = kernel;
	const OrtValue *in;
	OrtValue *out;
	OrtStatusPtr st;
	ONNXTensorElementDataType type;
	const int64_t *dims;
	size_t ndims;
	const void *src;
	void *dst;
	if ((st = api->KernelContext_GetInput(ctx, 0, &in)) != NULL)
		return st;
	if ((st = api->GetTensorElementTypeAndShapeDataReference(in, &type, &dims, &ndims)) != NULL)
		return st;
	if (type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
		return api->CreateStatus(ORT_INVALID_ARGUMENT, "ai.reverie kernels take float tensors");
	size_t n = 1;
	for (size_t i = 0; i < ndims; i++) {
		if (dims[i] < 0)
			return api->CreateStatus(ORT_INVALID_ARGUMENT, "ai.reverie kernel input has a negative dimension");
		n *= (size_t)dims[i];
	}
	if ((st = api->KernelContext_GetOutput(ctx, 0, dims, ndims, &out)) != NULL)
		return st;
	if (n == 0)
		return NULL;
	if ((st = api->GetTensorData(in, &src)) != NULL)
		return st;
	if ((st = api->GetTensorMutableData(out, &dst)) != NULL)
		return st;
	u->fn(src, dst, n);
	return NULL;
}

static OrtStatusPtr ORT_API_CALL create_kernel(const OrtCustomOp *op, const OrtApi *a, const OrtKernelInfo *info, void **kernel) {
	(void)a;
	(void)info;
	*kernel = (void *)op; /* stateless: the op is the kernel */
	return NULL;
}

static OrtStatusPtr ORT_API_CALL kernel_compute(void *kernel, OrtKernelContext *ctx) { return compute(kernel, ctx); }
static void ORT_API_CALL kernel_destroy(void *kernel) { (void)kernel; }
static const char *ORT_API_CALL op_name(const OrtCustomOp *op) { return ((const unary_op *)op)->name; }
static const char *ORT_API_CALL op_provider(const OrtCustomOp *op) {
	(void)op;
	return "CPUExecutionProvider";
}
static ONNXTensorElementDataType ORT_API_CALL float_type(const OrtCustomOp *op, size_t i) {
	(void)op;
	(void)i;
	return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
}
static size_t ORT_API_CALL one(const OrtCustomOp *op) {
	(void)op;
	return 1;
}
static OrtCustomOpInputOutputCharacteristic ORT_API_CALL required(const OrtCustomOp *op, size_t i) {
	(void)op;
	(void)i;
	return INPUT_OUTPUT_REQUIRED;
}
static OrtMemType ORT_API_CALL default_memory(const OrtCustomOp *op, size_t i) {
	(void)op;
	(void)i;
	return OrtMemTypeDefault;
}
static int ORT_API_CALL arity(const OrtCustomOp *op) {
	(void)op;
	return 1;
}
static int ORT_API_CALL first_version(const OrtCustomOp *op) {
	(void)op;
	return 1;
}
static int ORT_API_CALL last_version(const OrtCustomOp *op) {
	(void)op;
	return INT_MAX;
}

/* The output may take the input's buffer: each element is read before
 * it is written. ONNX Runtime frees the arrays with release_inplace. */
static size_t ORT_API_CALL may_inplace(int **in, int **out) {
	*in = malloc(sizeof(int));
	*out = malloc(sizeof(int));
	if (*in == NULL || *out == NULL) {
		free(*in);
		free(*out);
		*in = *out = NULL;
		return 0;
	}
	(*in)[0] = 0;
	(*out)[0] = 0;
	return 1;
}
static void ORT_API_CALL release_inplace(int *in, int *out) {
	free(in);
	free(out);
}

/* The output has the input's type and shape. The context owns the info
 * it lends. */
static OrtStatusPtr ORT_API_CALL same_shape(const OrtCustomOp *op, OrtShapeInferContext *ctx) {
	(void)op;
	OrtTensorTypeAndShapeInfo *info;
	OrtStatusPtr st = api->ShapeInferContext_GetInputTypeShape(ctx, 0, &info);
	if (st != NULL)
		return st;
	return api->ShapeInferContext_SetOutputTypeShape(ctx, 0, info);
}

#define UNARY(NAME, FN)                                                                       \
	{                                                                                         \
		.op = {.version = ORT_API_VERSION,                                                    \
		       .GetName = op_name,                                                            \
		       .GetExecutionProviderType = op_provider,                                       \
		       .GetInputType = float_type,                                                    \
		       .GetInputTypeCount = one,                                                      \
		       .GetOutputType = float_type,                                                   \
		       .GetOutputTypeCount = one,                                                     \
		       .KernelDestroy = kernel_destroy,                                               \
		       .GetInputCharacteristic = required,                                            \
		       .GetOutputCharacteristic = required,                                           \
		       .GetInputMemoryType = default_memory,                                          \
		       .GetVariadicInputMinArity = arity,                                             \
		       .GetVariadicInputHomogeneity = arity,                                          \
		       .GetVariadicOutputMinArity = arity,                                            \
		       .GetVariadicOutputHomogeneity = arity,                                         \
		       .CreateKernelV2 = create_kernel,                                               \
		       .KernelComputeV2 = kernel_compute,                                             \
		       .InferOutputShapeFn = same_shape,                                              \
		       .GetStartVersion = first_version,                                              \
		       .GetEndVersion = last_version,                                                 \
		       .GetMayInplace = may_inplace,                                                  \
		       .ReleaseMayInplace = release_inplace},                                         \
		.name = NAME, .fn = FN                                                                \
	}

static unary_op ops[] = {UNARY("Sine", sine), UNARY("Gauss", gauss)};

/* The domain outlives every session that uses it: it is made once, on the
 * first registration, and kept for the life of the process. Sessions may be
 * opened from several threads at once. */
static OrtCustomOpDomain *domain;
static pthread_mutex_t domain_mu = PTHREAD_MUTEX_INITIALIZER;

static OrtStatusPtr make_domain(const OrtApiBase *base) {
	if (api == NULL) {
		const OrtApi *a = base->GetApi(ORT_API_VERSION);
		if (a == NULL) {
			/* The first version's table has CreateStatus too. */
			return base->GetApi(1)->CreateStatus(ORT_FAIL, "libreverie_kernels needs ONNX Runtime 1.29 or later: run `make setup` to rebuild it");
		}
		api = a;
	}
	if (domain != NULL)
		return NULL;
	OrtCustomOpDomain *d;
	OrtStatusPtr st = api->CreateCustomOpDomain(DOMAIN, &d);
	if (st != NULL)
		return st;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		if ((st = api->CustomOpDomain_Add(d, &ops[i].op)) != NULL) {
			api->ReleaseCustomOpDomain(d);
			return st;
		}
	}
	domain = d;
	return NULL;
}

OrtStatus *ORT_API_CALL RegisterCustomOps(OrtSessionOptions *options, const OrtApiBase *base) {
	pthread_mutex_lock(&domain_mu);
	OrtStatusPtr st = make_domain(base);
	pthread_mutex_unlock(&domain_mu);
	if (st != NULL)
		return st;
	return api->AddCustomOpDomain(options, domain);
}
