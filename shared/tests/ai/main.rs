//! The real `OpenAiProvider` against the fake OpenAI-compatible server
//! (`testkit::openai`), over loopback HTTP.

mod chat;
mod check;
mod embeddings;
mod failures;
mod helpers;
