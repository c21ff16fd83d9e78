//! A small W3C WebDriver client over HTTP, for driving Debian's headless Chromium through
//! `chromedriver`: sessions, navigation, elements (find, click, type, read), scripts,
//! screenshots and the console log.
//! Both listen on loopback only, and Chromium is told to resolve no other host and use no
//! proxy, so a test page can never reach outside the machine.

use std::{
    net::TcpListener,
    os::unix::process::CommandExt,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::eventually;

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The key under which W3C WebDriver returns an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A `chromedriver` child process on a free loopback port, killed (with every browser it
/// started) when dropped, its scratch directory (browser profile and temporary files)
/// removed.
pub struct ChromeDriver {
    child: Child,
    url: String,
    scratch: PathBuf,
    client: reqwest::Client,
}

impl ChromeDriver {
    /// Starts `chromedriver` and waits until it answers `/status` as ready.
    pub async fn start() -> Self {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "the dashboard test needs Debian's Chromium: apt-get install -y chromium chromium-driver"
        );
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").expect("a free port");
            probe.local_addr().expect("bound address").port()
        };
        let scratch =
            std::env::temp_dir().join(format!("switchyard-chromium-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(scratch.join("tmp")).expect("scratch directory");
        let mut command = Command::new(CHROMEDRIVER);
        command
            .arg(format!("--port={port}"))
            // What chromedriver and Chromium leave in the temporary directory when killed
            // goes with the scratch directory.
            .env("TMPDIR", scratch.join("tmp"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group: dropping the driver kills the browsers it started too.
        command.process_group(0);
        let child = command.spawn().expect("chromedriver starts");
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("webdriver client");
        let driver = Self { child, url: format!("http://127.0.0.1:{port}"), scratch, client };
        eventually(Duration::from_secs(20), "chromedriver to be ready", || async {
            let response = driver.client.get(format!("{}/status", driver.url)).send().await.ok()?;
            let body: Value = response.json().await.ok()?;
            (body["value"]["ready"] == true).then_some(())
        })
        .await;
        driver
    }

    /// A new headless Chromium window of 1400×1000 that keeps its console log.
    pub async fn session(&self) -> Session {
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--window-size=1400,1000".to_owned(),
            "--no-first-run".to_owned(),
            "--no-default-browser-check".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-extensions".to_owned(),
            "--no-proxy-server".to_owned(),
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1".to_owned(),
            format!("--user-data-dir={}", self.scratch.join("profile").display()),
        ];
        let capabilities = json!({
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
                    "goog:loggingPrefs": { "browser": "ALL" },
                }
            }
        });
        let response = self
            .client
            .post(format!("{}/session", self.url))
            .json(&capabilities)
            .send()
            .await
            .expect("new session");
        let status = response.status();
        let body: Value = response.json().await.expect("session answer");
        assert_eq!(status, StatusCode::OK, "chromedriver refused a session: {body}");
        let id = body["value"]["sessionId"].as_str().expect("session id");
        Session { client: self.client.clone(), url: format!("{}/session/{id}", self.url) }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole group: chromedriver and the Chromium processes it started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// One browser session.
pub struct Session {
    client: reqwest::Client,
    url: String,
}

/// An element found on the page.
#[derive(Clone, Debug)]
pub struct Element(String);

/// A WebDriver error answer (`no such element`, `stale element reference`, …).
#[derive(Debug)]
pub struct WebDriverError {
    pub error: String,
    pub message: String,
}

impl Session {
    /// A command; the answer's `value`, or the error WebDriver named.
    async fn command(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("chromedriver answers");
        let status = response.status();
        let body: Value = response.json().await.expect("chromedriver answers JSON");
        if status.is_success() {
            Ok(body["value"].clone())
        } else {
            Err(WebDriverError {
                error: body["value"]["error"].as_str().unwrap_or_default().to_owned(),
                message: body["value"]["message"].as_str().unwrap_or_default().to_owned(),
            })
        }
    }

    async fn expect(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let what = format!("{method} {path}");
        self.command(method, path, body)
            .await
            .unwrap_or_else(|error| panic!("webdriver {what}: {} ({})", error.error, error.message))
    }

    pub async fn navigate(&self, url: &str) {
        self.expect(Method::POST, "/url", Some(json!({ "url": url }))).await;
    }

    /// The first element matching the CSS selector, if there is one now.
    pub async fn find(&self, css: &str) -> Option<Element> {
        match self
            .command(Method::POST, "/element", Some(json!({ "using": "css selector", "value": css })))
            .await
        {
            Ok(value) => Some(Element(value[ELEMENT_KEY].as_str().expect("element reference").to_owned())),
            Err(error) if error.error == "no such element" => None,
            Err(error) => panic!("finding {css}: {} ({})", error.error, error.message),
        }
    }

    /// Waits up to `timeout` for an element matching the CSS selector.
    pub async fn wait_for_element(&self, css: &str, timeout: Duration) -> Element {
        eventually(timeout, &format!("an element matching {css}"), || self.find(css)).await
    }

    pub async fn click(&self, element: &Element) {
        self.expect(Method::POST, &format!("/element/{}/click", element.0), Some(json!({}))).await;
    }

    pub async fn type_into(&self, element: &Element, text: &str) {
        self.expect(Method::POST, &format!("/element/{}/value", element.0), Some(json!({ "text": text })))
            .await;
    }

    /// The element's attribute, `None` when it has none (or is gone from the page).
    pub async fn attribute(&self, element: &Element, name: &str) -> Option<String> {
        let value = self
            .command(Method::GET, &format!("/element/{}/attribute/{name}", element.0), None)
            .await
            .ok()?;
        value.as_str().map(str::to_owned)
    }

    /// The element's rendered text (`None` when it is gone from the page).
    pub async fn text(&self, element: &Element) -> Option<String> {
        let value = self.command(Method::GET, &format!("/element/{}/text", element.0), None).await.ok()?;
        value.as_str().map(str::to_owned)
    }

    /// Runs `script` (a function body) in the page and answers what it returns.
    pub async fn execute(&self, script: &str) -> Value {
        self.expect(Method::POST, "/execute/sync", Some(json!({ "script": script, "args": [] }))).await
    }

    /// The window as a PNG.
    pub async fn screenshot(&self) -> Vec<u8> {
        let encoded = self.expect(Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("base64 screenshot"))
            .expect("valid base64")
    }

    /// The browser console's entries since the last call (`level`, `source`, `message`).
    pub async fn console_log(&self) -> Vec<Value> {
        let entries = self.expect(Method::POST, "/se/log", Some(json!({ "type": "browser" }))).await;
        entries.as_array().cloned().unwrap_or_default()
    }

    /// Ends the session (the browser closes).
    pub async fn quit(self) {
        let _ = self.client.delete(&self.url).send().await;
    }
}
