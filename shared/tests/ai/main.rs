//! The real `OpenAiProvider` against the fake OpenAI-compatible server
//! (`shared::ai::fake_server`), over loopback HTTP.

mod chat;
mod check;
mod embeddings;
mod failures;
mod helpers;
