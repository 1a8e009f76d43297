package dev.jlens.models.tokenizer;

/** A token matched in raw text before any splitting ({@code <|endoftext|>}, runs of spaces in NeoX's file). */
record AddedToken(String content, int id, boolean special) {}
