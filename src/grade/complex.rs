//! A small complex number type with the principal branches SymPy uses, so that expressions such as
//! `(-1)^{57/85}` or `\sqrt{-4}` evaluate the way the reference evaluates them.

use std::ops::{Add, Div, Mul, Neg, Sub};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct C64 {
    pub re: f64,
    pub im: f64,
}

impl C64 {
    pub const ZERO: C64 = C64 { re: 0.0, im: 0.0 };
    pub const ONE: C64 = C64 { re: 1.0, im: 0.0 };
    pub const I: C64 = C64 { re: 0.0, im: 1.0 };

    pub const fn real(re: f64) -> C64 {
        C64 { re, im: 0.0 }
    }

    pub const fn new(re: f64, im: f64) -> C64 {
        C64 { re, im }
    }

    pub fn is_finite(self) -> bool {
        self.re.is_finite() && self.im.is_finite()
    }

    pub fn is_nan(self) -> bool {
        self.re.is_nan() || self.im.is_nan()
    }

    pub fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }

    pub fn arg(self) -> f64 {
        self.im.atan2(self.re)
    }

    pub fn exp(self) -> C64 {
        if self.im == 0.0 {
            return C64::real(self.re.exp());
        }
        let m = self.re.exp();
        C64::new(m * self.im.cos(), m * self.im.sin())
    }

    /// Principal logarithm; `ln(0)` is `-inf` like SymPy's `zoo`-free real limit.
    pub fn ln(self) -> C64 {
        if self.im == 0.0 && self.re > 0.0 {
            return C64::real(self.re.ln());
        }
        C64::new(self.abs().ln(), self.arg())
    }

    pub fn sqrt(self) -> C64 {
        if self.im == 0.0 {
            return if self.re >= 0.0 { C64::real(self.re.sqrt()) } else { C64::new(0.0, (-self.re).sqrt()) };
        }
        let r = self.abs();
        let re = ((r + self.re) / 2.0).sqrt();
        let im = ((r - self.re) / 2.0).sqrt().copysign(self.im);
        C64::new(re, im)
    }

    /// Principal power `self^e`; integer exponents of real bases stay exact-ish via `powi`.
    pub fn pow(self, e: C64) -> C64 {
        if e.im == 0.0 {
            let x = e.re;
            if self.im == 0.0 {
                if x.fract() == 0.0 && x.abs() <= 1024.0 {
                    return C64::real(self.re.powi(x as i32));
                }
                if self.re > 0.0 {
                    return C64::real(self.re.powf(x));
                }
                if self.re == 0.0 {
                    return if x > 0.0 { C64::ZERO } else { C64::real(f64::INFINITY) };
                }
                if x == 0.5 {
                    return self.sqrt();
                }
            } else if x.fract() == 0.0 && x.abs() <= 64.0 {
                return self.powi(x as i32);
            }
        }
        if self.re == 0.0 && self.im == 0.0 {
            return if e.re > 0.0 { C64::ZERO } else { C64::new(f64::NAN, f64::NAN) };
        }
        (self.ln() * e).exp()
    }

    fn powi(self, n: i32) -> C64 {
        let mut base = if n < 0 { C64::ONE / self } else { self };
        let mut k = n.unsigned_abs();
        let mut acc = C64::ONE;
        while k > 0 {
            if k & 1 == 1 {
                acc = acc * base;
            }
            base = base * base;
            k >>= 1;
        }
        acc
    }

    pub fn sin(self) -> C64 {
        if self.im == 0.0 {
            return C64::real(self.re.sin());
        }
        C64::new(self.re.sin() * self.im.cosh(), self.re.cos() * self.im.sinh())
    }

    pub fn cos(self) -> C64 {
        if self.im == 0.0 {
            return C64::real(self.re.cos());
        }
        C64::new(self.re.cos() * self.im.cosh(), -self.re.sin() * self.im.sinh())
    }

    pub fn tan(self) -> C64 {
        if self.im == 0.0 {
            return C64::real(self.re.tan());
        }
        self.sin() / self.cos()
    }

    pub fn sinh(self) -> C64 {
        if self.im == 0.0 {
            return C64::real(self.re.sinh());
        }
        (self.exp() - (-self).exp()) * C64::real(0.5)
    }

    pub fn cosh(self) -> C64 {
        if self.im == 0.0 {
            return C64::real(self.re.cosh());
        }
        (self.exp() + (-self).exp()) * C64::real(0.5)
    }

    pub fn tanh(self) -> C64 {
        if self.im == 0.0 {
            return C64::real(self.re.tanh());
        }
        self.sinh() / self.cosh()
    }

    /// `asin(z) = -i ln(iz + sqrt(1 - z^2))`, real where SymPy's is real.
    pub fn asin(self) -> C64 {
        if self.im == 0.0 && self.re.abs() <= 1.0 {
            return C64::real(self.re.asin());
        }
        let iz = C64::I * self;
        -C64::I * (iz + (C64::ONE - self * self).sqrt()).ln()
    }

    pub fn acos(self) -> C64 {
        if self.im == 0.0 && self.re.abs() <= 1.0 {
            return C64::real(self.re.acos());
        }
        C64::real(std::f64::consts::FRAC_PI_2) - self.asin()
    }

    pub fn atan(self) -> C64 {
        if self.im == 0.0 {
            return C64::real(self.re.atan());
        }
        let i = C64::I;
        (i * C64::real(0.5)) * ((i + self) / (i - self)).ln()
    }

    pub fn asinh(self) -> C64 {
        if self.im == 0.0 {
            return C64::real(self.re.asinh());
        }
        (self + (self * self + C64::ONE).sqrt()).ln()
    }

    pub fn acosh(self) -> C64 {
        if self.im == 0.0 && self.re >= 1.0 {
            return C64::real(self.re.acosh());
        }
        (self + (self + C64::ONE).sqrt() * (self - C64::ONE).sqrt()).ln()
    }

    pub fn atanh(self) -> C64 {
        if self.im == 0.0 && self.re.abs() < 1.0 {
            return C64::real(self.re.atanh());
        }
        ((C64::ONE + self).ln() - (C64::ONE - self).ln()) * C64::real(0.5)
    }
}

impl Add for C64 {
    type Output = C64;
    fn add(self, o: C64) -> C64 {
        C64::new(self.re + o.re, self.im + o.im)
    }
}

impl Sub for C64 {
    type Output = C64;
    fn sub(self, o: C64) -> C64 {
        C64::new(self.re - o.re, self.im - o.im)
    }
}

impl Mul for C64 {
    type Output = C64;
    fn mul(self, o: C64) -> C64 {
        if self.im == 0.0 && o.im == 0.0 {
            return C64::real(self.re * o.re);
        }
        C64::new(self.re * o.re - self.im * o.im, self.re * o.im + self.im * o.re)
    }
}

impl Div for C64 {
    type Output = C64;
    fn div(self, o: C64) -> C64 {
        if o.im == 0.0 {
            return C64::new(self.re / o.re, if self.im == 0.0 { 0.0 } else { self.im / o.re });
        }
        let d = o.re * o.re + o.im * o.im;
        C64::new((self.re * o.re + self.im * o.im) / d, (self.im * o.re - self.re * o.im) / d)
    }
}

impl Neg for C64 {
    type Output = C64;
    fn neg(self) -> C64 {
        C64::new(-self.re, -self.im)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: C64, b: C64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn principal_branches_match_sympy() {
        assert!(close(C64::real(-4.0).sqrt(), C64::new(0.0, 2.0)));
        // (-1)^(1/3) principal value is e^(i pi/3)
        let r = C64::real(-1.0).pow(C64::real(1.0 / 3.0));
        assert!(close(r, C64::new(0.5, 3f64.sqrt() / 2.0)));
        assert!(close(C64::real(2.0).pow(C64::real(10.0)), C64::real(1024.0)));
        assert!(close((C64::I * C64::real(std::f64::consts::PI)).exp(), C64::real(-1.0)));
        assert!(close(C64::real(2.0).asin().sin(), C64::real(2.0)));
    }
}
