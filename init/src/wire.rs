//! A tiny binary codec: little-endian integers, length-prefixed bytes.

/// A value that can be written to and read from the wire.
pub trait Wire: Sized {
    fn put(&self, out: &mut Vec<u8>);
    fn get(r: &mut Reader<'_>) -> Option<Self>;

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.put(&mut out);
        out
    }

    /// Decodes a whole buffer; trailing bytes are an error.
    fn decode(buf: &[u8]) -> Option<Self> {
        let mut r = Reader { buf, pos: 0 };
        let v = Self::get(&mut r)?;
        (r.pos == buf.len()).then_some(v)
    }
}

/// A cursor over an encoded buffer.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
}

macro_rules! wire_int {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn get(r: &mut Reader<'_>) -> Option<Self> {
                let b = r.take(std::mem::size_of::<$t>())?;
                Some(<$t>::from_le_bytes(b.try_into().ok()?))
            }
        }
    )*};
}
wire_int!(u8, u32, u64, i32, i64);

impl Wire for bool {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(*self as u8);
    }
    fn get(r: &mut Reader<'_>) -> Option<Self> {
        match u8::get(r)? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl Wire for String {
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u32).put(out);
        out.extend_from_slice(self.as_bytes());
    }
    fn get(r: &mut Reader<'_>) -> Option<Self> {
        let n = u32::get(r)? as usize;
        String::from_utf8(r.take(n)?.to_vec()).ok()
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn put(&self, out: &mut Vec<u8>) {
        (self.len() as u32).put(out);
        self.iter().for_each(|v| v.put(out));
    }
    fn get(r: &mut Reader<'_>) -> Option<Self> {
        let n = u32::get(r)? as usize;
        // Cap the pre-allocation: a corrupt length must not exhaust memory.
        let mut v = Vec::with_capacity(n.min(1024));
        for _ in 0..n {
            v.push(T::get(r)?);
        }
        Some(v)
    }
}

impl<T: Wire> Wire for Option<T> {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(v) => {
                out.push(1);
                v.put(out);
            }
        }
    }
    fn get(r: &mut Reader<'_>) -> Option<Self> {
        match u8::get(r)? {
            0 => Some(None),
            1 => Some(Some(T::get(r)?)),
            _ => None,
        }
    }
}

macro_rules! wire_tuple {
    ($($n:ident),*) => {
        impl<$($n: Wire),*> Wire for ($($n,)*) {
            #[allow(non_snake_case)]
            fn put(&self, out: &mut Vec<u8>) {
                let ($($n,)*) = self;
                $($n.put(out);)*
            }
            fn get(r: &mut Reader<'_>) -> Option<Self> {
                Some(($($n::get(r)?,)*))
            }
        }
    };
}
wire_tuple!(A, B);
wire_tuple!(A, B, C);

/// Declares a struct whose fields are all [`Wire`], and implements [`Wire`] for it.
macro_rules! wire_struct {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident : $t:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name { $($(#[$fm])* pub $f: $t,)* }
        impl $crate::wire::Wire for $name {
            fn put(&self, out: &mut Vec<u8>) {
                $(self.$f.put(out);)*
            }
            fn get(r: &mut $crate::wire::Reader<'_>) -> Option<Self> {
                Some($name { $($f: <$t as $crate::wire::Wire>::get(r)?,)* })
            }
        }
    };
}
pub(crate) use wire_struct;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MountOp, Plan};

    #[test]
    fn plan_round_trips() {
        let mut p = Plan::default();
        p.rootfs = "/x/rootfs".into();
        p.ns_join = vec![(0x4000_0000, "/proc/1/ns/net".into())];
        p.mounts.push(MountOp { dest: "/proc".into(), fstype: "proc".into(), ..Default::default() });
        p.process.args = vec!["sh".into(), "-c".into(), "true".into()];
        p.process.seccomp_bpf = Some(vec![1, 2, 3]);
        assert_eq!(Plan::decode(&p.encode()), Some(p));
    }

    #[test]
    fn truncated_input_is_rejected() {
        let mut p = Plan::default();
        p.rootfs = "/r".into();
        let buf = p.encode();
        assert_eq!(Plan::decode(&buf[..buf.len() - 1]), None);
        assert_eq!(String::decode(&[255, 255, 255, 255]), None);
    }
}
