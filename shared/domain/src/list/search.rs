//! `q`, Dispatch's full-text search (docs/contract.md §6.4): whitespace-separated words match as
//! prefixes of words of the searchable fields, all of them (AND); the word `or` separates
//! alternatives; a leading `-` negates a term; `"quoted phrases"` match as phrases.
//! Case-insensitive. Like Dispatch, a model with a `name` also matches when the name contains `q`.
//! `q` has at most 255 characters ([`super::params::MAX_Q_CHARS`]).

/// One term of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Term {
    Prefix(String),
    Phrase(String),
}

/// A parsed search: alternatives of conjunctions of (possibly negated) terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    raw: String,
    alternatives: Vec<Vec<(bool, Term)>>,
}

impl Search {
    /// Parses `q`.
    pub fn parse(q: &str) -> Self {
        let mut alternatives = vec![Vec::new()];
        let mut chars = q.chars().peekable();
        let mut negate = false;
        while let Some(c) = chars.next() {
            match c {
                c if c.is_whitespace() => {}
                '-' => negate = true,
                '"' => {
                    let phrase: String = chars.by_ref().take_while(|c| *c != '"').collect();
                    let phrase = phrase.trim().to_lowercase();
                    if !phrase.is_empty() {
                        alternatives
                            .last_mut()
                            .expect("one group")
                            .push((negate, Term::Phrase(phrase)));
                    }
                    negate = false;
                }
                c => {
                    let mut word = String::from(c);
                    while let Some(next) = chars.peek().filter(|n| !n.is_whitespace() && **n != '"')
                    {
                        word.push(*next);
                        chars.next();
                    }
                    let word = word.to_lowercase();
                    if word == "or" && !negate {
                        alternatives.push(Vec::new());
                    } else {
                        alternatives
                            .last_mut()
                            .expect("one group")
                            .push((negate, Term::Prefix(word)));
                    }
                    negate = false;
                }
            }
        }
        alternatives.retain(|group| !group.is_empty());
        Self {
            raw: q.trim().to_lowercase(),
            alternatives,
        }
    }

    /// Whether an item with these searchable texts (and this name, if its model has one)
    /// matches.
    pub fn matches(&self, texts: &[&str], name: Option<&str>) -> bool {
        if name.is_some_and(|n| n.to_lowercase().contains(&self.raw)) {
            return true;
        }
        let haystack: Vec<String> = texts.iter().map(|t| t.to_lowercase()).collect();
        // Sorted, the words starting with a prefix come first among those not below it: one
        // binary search per term, not a pass over a 10,000-character description per term.
        let mut words: Vec<&str> = haystack
            .iter()
            .flat_map(|t| t.split(|c: char| !c.is_alphanumeric()))
            .filter(|w| !w.is_empty())
            .collect();
        words.sort_unstable();
        let holds = |term: &Term| match term {
            Term::Prefix(prefix) => {
                let prefix: String = prefix.chars().filter(|c| c.is_alphanumeric()).collect();
                let first = words.partition_point(|w| *w < prefix.as_str());
                prefix.is_empty() || words.get(first).is_some_and(|w| w.starts_with(&prefix))
            }
            Term::Phrase(phrase) => haystack.iter().any(|t| t.contains(phrase.as_str())),
        };
        self.alternatives
            .iter()
            .any(|group| group.iter().all(|(negated, term)| holds(term) != *negated))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_prefixes_and_all_must_match() {
        let s = Search::parse("sec resp");
        assert!(s.matches(&["Security Response", "team"], None));
        assert!(!s.matches(&["Security", "team"], None));
    }

    #[test]
    fn or_negation_and_phrases() {
        assert!(Search::parse("alpha or beta").matches(&["beta project"], None));
        assert!(!Search::parse("project -beta").matches(&["beta project"], None));
        assert!(Search::parse("\"beta proj\"").matches(&["the beta project"], None));
        assert!(!Search::parse("\"project beta\"").matches(&["the beta project"], None));
    }

    #[test]
    fn a_name_containing_q_matches_like_dispatchs_ilike() {
        assert!(Search::parse("efau").matches(&["default"], Some("default")));
        assert!(!Search::parse("efau").matches(&["default"], None));
    }
}
