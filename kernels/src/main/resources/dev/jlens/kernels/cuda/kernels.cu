// jlens's CUDA kernels: everything a forward and backward pass needs besides matrix products, which
// go to cuBLAS. Compiled at run time by NVRTC. Each kernel has the contract of the CPU kernel of the
// same name in dev.jlens.kernels (row-major float32; "backward" kernels add into their outputs).
// Reductions run over one row per block (of Kernels.THREADS threads, a multiple of 32).
// NVRTC has no math.h: −∞ by its bits.
#define NEG_INF __int_as_float(0xff800000)

__device__ float block_sum(float v, float* shared) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    float total = 0;
    for (int w = 0; w < (blockDim.x >> 5); w++) total += shared[w];
    return total;
}

__device__ float block_max(float v, float* shared) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    float total = NEG_INF;
    for (int w = 0; w < (blockDim.x >> 5); w++) total = fmaxf(total, shared[w]);
    return total;
}

extern "C" __global__ void add_to(const float* x, float* y, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) y[i] += x[i];
}

extern "C" __global__ void sum_of(const float* a, const float* b, float* out, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) out[i] = a[i] + b[i];
}

extern "C" __global__ void reciprocal(const float* x, float* y, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) y[i] = 1.0f / x[i];
}

// dst[r, c] (+)= src[r, c] for a rows × width block; ldSrc 0 repeats one source row (a bias).
extern "C" __global__ void copy_rows(const float* src, long ldSrc, float* dst, long ldDst, int rows, int width, int accumulate) {
    long n = (long) rows * width;
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        long r = i / width, c = i % width;
        float v = src[r * ldSrc + c];
        if (accumulate) dst[r * ldDst + c] += v; else dst[r * ldDst + c] = v;
    }
}

// Every row of [count, t, t] scores: key j > query i is masked to −∞.
extern "C" __global__ void mask_future(float* scores, int t, long count) {
    long n = count * t * t;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < n; idx += (long) gridDim.x * blockDim.x) {
        int j = idx % t, i = (idx / t) % t;
        if (j > i) scores[idx] = NEG_INF;
    }
}

// Every row of [count, t, t] scores: key j is masked to −∞ for query i when i − j ≥ window.
extern "C" __global__ void mask_outside_window(float* scores, int t, int window, long count) {
    long n = count * t * t;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < n; idx += (long) gridDim.x * blockDim.x) {
        int j = idx % t, i = (idx / t) % t;
        if (i - j >= window) scores[idx] = NEG_INF;
    }
}

// The row's largest value m and Σ exp(x − m) over its first n entries: what a softmax divides by.
__device__ float2 max_and_sum_exp(const float* x, int n, float* shared) {
    float m = NEG_INF;
    for (int j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, x[j]);
    m = block_max(m, shared);
    float s = 0;
    for (int j = threadIdx.x; j < n; j += blockDim.x) s += expf(x[j] - m);
    return make_float2(m, block_sum(s, shared));
}

// p = softmax over the first `valid` entries of a row, zeros after them.
__device__ void softmax_row(const float* x, float* p, int valid, int n, float* shared) {
    float2 ms = max_and_sum_exp(x, valid, shared);
    float m = ms.x, inv = 1.0f / ms.y;
    for (int j = threadIdx.x; j < n; j += blockDim.x) p[j] = j < valid ? expf(x[j] - m) * inv : 0.0f;
}

// Attention's pattern: row r of [count·t, t] is query r mod t, which sees keys 0..r mod t.
extern "C" __global__ void causal_softmax(const float* scores, float* pattern, int t) {
    __shared__ float shared[32];
    long row = blockIdx.x;
    softmax_row(scores + row * t, pattern + row * t, (int) (row % t) + 1, t, shared);
}

// dscores += pattern ⊙ (dpattern − Σ dpattern⊙pattern) over the causal keys.
extern "C" __global__ void causal_softmax_backward(const float* pattern, const float* dpattern, float* dscores, int t) {
    __shared__ float shared[32];
    long row = blockIdx.x;
    int valid = (int) (row % t) + 1;
    const float* p = pattern + row * t;
    const float* dp = dpattern + row * t;
    float inner = 0;
    for (int j = threadIdx.x; j < valid; j += blockDim.x) inner += p[j] * dp[j];
    inner = block_sum(inner, shared);
    for (int j = threadIdx.x; j < valid; j += blockDim.x) dscores[row * t + j] += p[j] * (dp[j] - inner);
}

// SoLU: y = x ⊙ softmax(x) over each row of width c.
extern "C" __global__ void solu(const float* x, float* y, int c) {
    __shared__ float shared[32];
    long o = (long) blockIdx.x * c;
    softmax_row(x + o, y + o, c, c, shared);
    __syncthreads();
    for (int j = threadIdx.x; j < c; j += blockDim.x) y[o + j] *= x[o + j];
}

// dx += dy⊙s + s⊙(g − Σ g⊙s), g = dy⊙x, s = softmax(x) recomputed.
extern "C" __global__ void solu_backward(const float* x, const float* dy, float* dx, int c) {
    __shared__ float shared[32];
    long o = (long) blockIdx.x * c;
    float2 ms = max_and_sum_exp(x + o, c, shared);
    float m = ms.x, inv = 1.0f / ms.y, inner = 0;
    for (int j = threadIdx.x; j < c; j += blockDim.x) inner += dy[o + j] * x[o + j] * expf(x[o + j] - m) * inv;
    inner = block_sum(inner, shared);
    for (int j = threadIdx.x; j < c; j += blockDim.x) {
        float sj = expf(x[o + j] - m) * inv, g = dy[o + j] * x[o + j];
        dx[o + j] += dy[o + j] * sj + sj * (g - inner);
    }
}

#define SQRT_2_OVER_PI 0.7978845608028654f
#define CUBIC 0.044715f

extern "C" __global__ void gelu_tanh(const float* x, float* y, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        float v = x[i], u = SQRT_2_OVER_PI * (v + CUBIC * v * v * v);
        y[i] = v / (1.0f + expf(-2.0f * u));
    }
}

extern "C" __global__ void gelu_tanh_backward(const float* x, const float* dy, float* dx, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        float v = x[i], u = SQRT_2_OVER_PI * (v + CUBIC * v * v * v);
        // σ(2u) and 1 − σ(2u) = σ(−2u) each from its own exponential: e^(−2u)·σ overflows to ∞·0 in the far tail.
        float sigma = 1.0f / (1.0f + expf(-2.0f * u)), rest = 1.0f / (1.0f + expf(2.0f * u));
        float du = SQRT_2_OVER_PI * (1.0f + 3.0f * CUBIC * v * v);
        dx[i] += (sigma + 2.0f * v * sigma * rest * du) * dy[i];
    }
}

extern "C" __global__ void gelu_erf(const float* x, float* y, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        float v = x[i];
        y[i] = v * 0.5f * erfcf(-v * 0.7071067811865476f);
    }
}

extern "C" __global__ void gelu_erf_backward(const float* x, const float* dy, float* dx, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        float v = x[i];
        float cdf = 0.5f * erfcf(-v * 0.7071067811865476f), pdf = expf(-0.5f * v * v) * 0.3989422804014327f;
        dx[i] += (cdf + v * pdf) * dy[i];
    }
}

// mean and rstd = 1/√(var + eps) of each row of width c.
extern "C" __global__ void layer_norm_statistics(const float* x, float* mean, float* rstd, int c, float eps) {
    __shared__ float shared[32];
    long o = (long) blockIdx.x * c;
    float s = 0;
    for (int j = threadIdx.x; j < c; j += blockDim.x) s += x[o + j];
    float mu = block_sum(s, shared) / c;
    float v = 0;
    for (int j = threadIdx.x; j < c; j += blockDim.x) { float d = x[o + j] - mu; v += d * d; }
    v = block_sum(v, shared);
    if (threadIdx.x == 0) {
        mean[blockIdx.x] = mu;
        rstd[blockIdx.x] = (float) (1.0 / sqrt((double) (v / c) + (double) eps));
    }
}

// y = (x − mean)·rstd·w + b; w, b may be null.
extern "C" __global__ void layer_norm_normalize(const float* x, float* y, const float* w, const float* b,
                                                const float* mean, const float* rstd, int rows, int c) {
    long n = (long) rows * c;
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        long r = i / c; int j = i % c;
        float v = (x[i] - mean[r]) * rstd[r];
        if (w) v *= w[j];
        if (b) v += b[j];
        y[i] = v;
    }
}

// Per row: dx_c = g·rstd (written), dscale = −rstd·Σ g·x̂, with g = dy·w.
extern "C" __global__ void layer_norm_backward_to_scale(float* dxc, float* dScale, const float* dy, const float* x,
                                                        const float* w, const float* mean, const float* rstd, int c) {
    __shared__ float shared[32];
    long r = blockIdx.x, o = r * c;
    float mu = mean[r], rs = rstd[r], acc = 0;
    for (int j = threadIdx.x; j < c; j += blockDim.x) {
        float g = w ? dy[o + j] * w[j] : dy[o + j];
        acc += g * (x[o + j] - mu) * rs;
        dxc[o + j] = g * rs;
    }
    acc = block_sum(acc, shared);
    if (threadIdx.x == 0) dScale[r] = -rs * acc;
}

// dw += Σ_rows dy·x̂ and db += Σ_rows dy (either may be null): threads over columns, blocks over slices of rows.
extern "C" __global__ void layer_norm_parameter_gradients(float* dw, float* db, const float* dy, const float* x,
                                                          const float* mean, const float* rstd, int rows, int c, int rowsPerBlock) {
    int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= c) return;
    int from = blockIdx.y * rowsPerBlock, to = min(rows, from + rowsPerBlock);
    float sw = 0, sb = 0;
    for (int r = from; r < to; r++) {
        float d = dy[(long) r * c + j];
        sw += d * (x[(long) r * c + j] - mean[r]) * rstd[r];
        sb += d;
    }
    if (dw) atomicAdd(dw + j, sw);
    if (db) atomicAdd(db + j, sb);
}

// dx_c += dscale·rstd/c·(x − mean), then dx = dx_c − mean(dx_c), per row.
extern "C" __global__ void layer_norm_backward_from_scale(float* dx, const float* dScale, const float* x,
                                                          const float* mean, const float* rstd, int c) {
    __shared__ float shared[32];
    long r = blockIdx.x, o = r * c;
    float mu = mean[r], coefficient = dScale[r] * rstd[r] / c, s = 0;
    for (int j = threadIdx.x; j < c; j += blockDim.x) {
        float d = dx[o + j] + coefficient * (x[o + j] - mu);
        dx[o + j] = d;
        s += d;
    }
    float shift = block_sum(s, shared) / c;
    for (int j = threadIdx.x; j < c; j += blockDim.x) dx[o + j] -= shift;
}

// rstd = 1/√(mean(x²) + eps) of each row of width c (an RMS norm's statistic).
extern "C" __global__ void rms_norm_statistics(const float* x, float* rstd, int c, float eps) {
    __shared__ float shared[32];
    long o = (long) blockIdx.x * c;
    float s = 0;
    for (int j = threadIdx.x; j < c; j += blockDim.x) s += x[o + j] * x[o + j];
    s = block_sum(s, shared);
    if (threadIdx.x == 0) rstd[blockIdx.x] = (float) (1.0 / sqrt((double) (s / c) + (double) eps));
}

// dx += dscale·rstd/c·x: the RMS norm's last backward step (no mean to subtract).
extern "C" __global__ void rms_norm_backward_from_scale(float* dx, const float* dScale, const float* x, const float* rstd,
                                                        int rows, int c) {
    long n = (long) rows * c;
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        long r = i / c;
        dx[i] += dScale[r] * rstd[r] / c * x[i];
    }
}

extern "C" __global__ void multiply(const float* a, const float* b, float* out, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) out[i] = a[i] * b[i];
}

// y[r, j] = x[r, j]·w[j].
extern "C" __global__ void multiply_rows(const float* x, const float* w, float* y, int rows, int c) {
    long n = (long) rows * c;
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) y[i] = x[i] * w[i % c];
}

// SiLU x·σ(x) = x/(1 + e^(−x)), and its derivative σ·(1 + x·(1 − σ)).
extern "C" __global__ void silu(const float* x, float* y, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) y[i] = x[i] / (1.0f + expf(-x[i]));
}

extern "C" __global__ void silu_backward(const float* x, const float* dy, float* dx, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        float sigma = 1.0f / (1.0f + expf(-x[i]));
        dx[i] += sigma * (1.0f + x[i] * (1.0f - sigma)) * dy[i];
    }
}

// Gemma 2's soft cap, cap·tanh(x / cap), keeping masked −∞ scores; backward from the output.
extern "C" __global__ void soft_cap(const float* x, float* y, float cap, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        y[i] = x[i] == NEG_INF ? x[i] : cap * tanhf(x[i] / cap);
    }
}

extern "C" __global__ void soft_cap_backward(const float* y, const float* dy, float* dx, float cap, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        float ratio = fmaxf(y[i] / cap, -1.0f);
        dx[i] = (1.0f - ratio * ratio) * dy[i];
    }
}

// GPT-NeoX rotate-half on the first rotaryDim dims of each head of [b·t, h, d]; direction −1 and
// accumulate for backward.
extern "C" __global__ void rotary(const float* cosTable, const float* sinTable, const float* in, float* out,
                                  int t, int h, int d, int half, long bt, float direction, int accumulate) {
    long n = bt * h * half;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < n; idx += (long) gridDim.x * blockDim.x) {
        int i = idx % half;
        long rowHead = idx / half;
        int pos = (rowHead / h) % t;
        long o = rowHead * d;
        float c = cosTable[pos * half + i], s = direction * sinTable[pos * half + i];
        float x1 = in[o + i], x2 = in[o + i + half];
        float y1 = x1 * c - x2 * s, y2 = x2 * c + x1 * s;
        if (accumulate) { out[o + i] += y1; out[o + i + half] += y2; }
        else { out[o + i] = y1; out[o + i + half] = y2; }
    }
}

// The dims past rotaryDim pass through: out[.., rotaryDim..d) (+)= in[..].
extern "C" __global__ void rotary_pass(const float* in, float* out, int d, int rotaryDim, long rows, int accumulate) {
    int rest = d - rotaryDim;
    long n = rows * rest;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < n; idx += (long) gridDim.x * blockDim.x) {
        long o = (idx / rest) * d + rotaryDim + idx % rest;
        if (accumulate) out[o] += in[o]; else out[o] = in[o];
    }
}

extern "C" __global__ void embed(const float* table, const int* tokens, float* out, int n, int d) {
    long total = (long) n * d;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        out[idx] = table[(long) tokens[idx / d] * d + idx % d];
    }
}

extern "C" __global__ void embed_backward(const float* dOut, const int* tokens, float* grad, int n, int d) {
    long total = (long) n * d;
    for (long idx = blockIdx.x * (long) blockDim.x + threadIdx.x; idx < total; idx += (long) gridDim.x * blockDim.x) {
        atomicAdd(grad + (long) tokens[idx / d] * d + idx % d, dOut[idx]);
    }
}

// Next-token cross-entropy over rows of [batch·pos, vocab]: targets[row] < 0 marks a row that
// predicts nothing (gradient 0, loss 0). grad = (softmax − onehot)·scale; loss in double.
extern "C" __global__ void cross_entropy(const float* logits, const int* targets, float* grad, double* loss, int vocab, float scale) {
    __shared__ float shared[32];
    long row = blockIdx.x, o = row * vocab;
    int target = targets[row];
    if (target < 0) {
        for (int j = threadIdx.x; j < vocab; j += blockDim.x) grad[o + j] = 0.0f;
        if (threadIdx.x == 0) loss[row] = 0.0;
        return;
    }
    float2 ms = max_and_sum_exp(logits + o, vocab, shared);
    float m = ms.x, s = ms.y, inv = 1.0f / s;
    for (int j = threadIdx.x; j < vocab; j += blockDim.x) {
        float p = expf(logits[o + j] - m) * inv;
        grad[o + j] = (j == target ? p - 1.0f : p) * scale;
    }
    if (threadIdx.x == 0) loss[row] = log((double) s) + (double) m - (double) logits[o + target];
}

// AdamW: moments, then w ← w·(1 − lr·wd) − lr·(m/c1)/(√(v/c2) + eps); mScale = 1/c1, vScale = 1/c2.
extern "C" __global__ void adamw(float* w, const float* g, float* m, float* v, long n, float beta1, float beta2,
                                 float mScale, float vScale, float eps, float weightDecay, float lr) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi, vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * (1.0f - lr * weightDecay) - lr * (mi * mScale / (sqrtf(vi * vScale) + eps));
    }
}

// total += Σ x² in double (one atomic add per block).
extern "C" __global__ void sum_of_squares(const float* x, long n, double* total) {
    __shared__ double partial[32];
    double s = 0;
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) s += (double) x[i] * x[i];
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffff, s, o);
    if ((threadIdx.x & 31) == 0) partial[threadIdx.x >> 5] = s;
    __syncthreads();
    if (threadIdx.x == 0) {
        double block = 0;
        for (int w = 0; w < (blockDim.x >> 5); w++) block += partial[w];
        atomicAdd(total, block);
    }
}

extern "C" __global__ void scale(float* x, float factor, long n) {
    for (long i = blockIdx.x * (long) blockDim.x + threadIdx.x; i < n; i += (long) gridDim.x * blockDim.x) x[i] *= factor;
}
