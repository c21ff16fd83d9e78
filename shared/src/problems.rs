//! Field-level problems of an input, found before anything is written: the API answers them
//! as a 400 naming each field, a worker fails the task with the first.

/// Problems by field, in the order found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problems(Vec<(String, String)>);

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    /// Just one problem.
    pub fn one(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self(vec![(field.into(), problem.into())])
    }

    pub fn push(&mut self, field: impl Into<String>, problem: impl Into<String>) {
        self.0.push((field.into(), problem.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn first(&self) -> Option<(&str, &str)> {
        self.0.first().map(|(field, problem)| (field.as_str(), problem.as_str()))
    }

    /// The same problems with each field under `parent` (`payload.steps`).
    pub fn under(self, parent: &str) -> Self {
        Self(self.0.into_iter().map(|(field, problem)| (format!("{parent}.{field}"), problem)).collect())
    }

    /// `Ok(value)` when there are none.
    pub fn or_ok<T>(self, value: T) -> Result<T, Problems> {
        if self.is_empty() { Ok(value) } else { Err(self) }
    }
}

impl IntoIterator for Problems {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl FromIterator<(String, String)> for Problems {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}
