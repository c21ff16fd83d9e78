//! The real `OpenAiProvider` against the fake OpenAI-compatible server
//! (`testkit::openai`), and the real `RunwareProvider` against the fake Runware
//! (`testkit::runware`), over loopback HTTP.

mod chat;
mod check;
mod embeddings;
mod failures;
mod helpers;
mod runware;
