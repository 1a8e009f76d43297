"""The PyTorch anchor for `jlens bench step --device cuda`: one forward+backward of a randomly
initialised Hugging Face GPT-2 (or GPT-NeoX) of a given shape, float32, on random tokens, timed
the way jlens times it (median of the timed steps after warm-up, each ending in a synchronize).

TF32 stays off (PyTorch's default for matmuls) so both sides do full float32 arithmetic."""
import argparse
import time

import torch
import transformers


def model_for(args):
    if args.arch == "gpt2":
        cfg = transformers.GPT2Config(n_layer=args.layers, n_embd=args.d_model, n_head=args.heads,
                                      n_positions=args.ctx, vocab_size=args.vocab,
                                      resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    else:
        cfg = transformers.GPTNeoXConfig(num_hidden_layers=args.layers, hidden_size=args.d_model,
                                         num_attention_heads=args.heads, intermediate_size=4 * args.d_model,
                                         max_position_embeddings=args.ctx, vocab_size=args.vocab,
                                         rotary_pct=0.25, use_parallel_residual=True)
    cfg._attn_implementation = args.attention
    return transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation=args.attention).cuda().float()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--arch", default="gpt2", choices=["gpt2", "neox"])
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--d-model", type=int, default=768)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--ctx", type=int, default=1024)
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=1024)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--attention", default="eager", choices=["eager", "sdpa"])
    p.add_argument("--forward-only", action="store_true")
    args = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(1)
    model = model_for(args)
    model.train(not args.forward_only)
    tokens = torch.randint(0, args.vocab, (args.batch, args.seq), device="cuda")
    times = []
    for step in range(args.warmup + args.steps):
        torch.cuda.synchronize()
        start = time.perf_counter()
        if args.forward_only:
            with torch.no_grad():
                model(tokens)
        else:
            model.zero_grad(set_to_none=False)
            loss = model(tokens, labels=tokens).loss
            loss.backward()
        torch.cuda.synchronize()
        if step >= args.warmup:
            times.append(time.perf_counter() - start)
    times.sort()
    what = "forward" if args.forward_only else "forward+backward"
    print(f"pytorch {torch.__version__} {args.arch} {args.attention} attention, {what} at batch {args.batch} x {args.seq}: "
          f"median {times[len(times) // 2]:.4f} s per step (best {times[0]:.4f} s) on {torch.cuda.get_device_name()}")
    print(f"RESULT torch-step {times[len(times) // 2]:.6f}")


if __name__ == "__main__":
    main()
