//! JSON pointers (RFC 6901): how the JSON reader, the validator and the modules that edit
//! objects name a place in an object, built here so that a key holding `~` or `/` is escaped
//! one way everywhere.

/// Appends `/token` to a JSON pointer, escaping `~` and `/` (RFC 6901).
pub fn push_pointer(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// The pointer to member `key` of the value at `path`.
pub fn child(path: &str, key: &str) -> String {
    let mut p = path.to_owned();
    push_pointer(&mut p, key);
    p
}

/// The pointer to element `index` of the list at `path`.
pub fn item(path: &str, index: usize) -> String {
    format!("{path}/{index}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_escaped() {
        let mut p = String::new();
        push_pointer(&mut p, "a/b~c");
        assert_eq!(p, "/a~1b~0c");
        assert_eq!(child("/x", "~"), "/x/~0");
        assert_eq!(child("", ""), "/");
        assert_eq!(item(&child("", "refs"), 3), "/refs/3");
    }
}
