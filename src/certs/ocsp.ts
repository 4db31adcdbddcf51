// OCSP for stapling (RFC 6960): the control plane asks the issuer's responder (the OCSP URL of
// the certificate's Authority Information Access) about each stored certificate, checks the
// answer (signed by the issuer or by a responder the issuer delegated to, about this very
// certificate, status good, still current) and keeps its DER bytes; the bundle builder ships
// them beside the certificate and nginx staples them with `ssl_stapling_file`, so an edge
// never needs outbound access at handshake time.
//
// Only the few DER shapes OCSP needs are read and written here (no ASN.1 library).
import { createHash, verify, X509Certificate } from 'node:crypto';

/** One DER TLV: tag byte, the whole element and its contents. */
interface Tlv {
  tag: number;
  /** The whole element (tag, length, contents). */
  der: Buffer;
  contents: Buffer;
}

export class OcspError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OcspError';
  }
}

function readTlv(buf: Buffer, at = 0): Tlv {
  if (at + 2 > buf.length) throw new OcspError('truncated DER');
  const tag = buf[at] ?? 0;
  let len = buf[at + 1] ?? 0;
  let head = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || at + 2 + n > buf.length) throw new OcspError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[at + 2 + i] ?? 0);
    head += n;
  }
  const end = at + head + len;
  if (end > buf.length) throw new OcspError('truncated DER');
  return { tag, der: buf.subarray(at, end), contents: buf.subarray(at + head, end) };
}

/** The elements inside a constructed element. */
function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < t.contents.length;) {
    const c = readTlv(t.contents, at);
    out.push(c);
    at += c.der.length;
  }
  return out;
}

function encode(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len =
    n < 0x80
      ? Buffer.from([n])
      : n < 0x100
        ? Buffer.from([0x81, n])
        : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

const SEQUENCE = 0x30;
const OID_SHA1 = Buffer.from('06052b0e03021a', 'hex');
const NULL = Buffer.from('0500', 'hex');
/** id-pkix-ocsp-basic (1.3.6.1.5.5.7.48.1.1). */
const OID_OCSP_BASIC = Buffer.from('06092b0601050507300101', 'hex');
/** id-kp-OCSPSigning. */
const OCSP_SIGNING = '1.3.6.1.5.5.7.3.9';

/** Signature algorithm OIDs (DER contents) → the digest node's verify() needs. */
const SIGNATURE_DIGESTS: Record<string, string> = {
  '2a864886f70d010105': 'sha1', // sha1WithRSAEncryption
  '2a864886f70d01010b': 'sha256', // sha256WithRSAEncryption
  '2a864886f70d01010c': 'sha384',
  '2a864886f70d01010d': 'sha512',
  '2a8648ce3d040302': 'sha256', // ecdsa-with-SHA256
  '2a8648ce3d040303': 'sha384',
  '2a8648ce3d040304': 'sha512',
};

/** The parts of a certificate an OCSP request names (RFC 6960 §4.1.1 CertID). */
function tbsParts(cert: X509Certificate): { serial: Buffer; subject: Buffer; spkiBits: Buffer } {
  const [tbs] = children(readTlv(cert.raw));
  if (tbs === undefined) throw new OcspError('not a certificate');
  const f = children(tbs);
  const offset = f[0]?.tag === 0xa0 ? 1 : 0; // [0] version
  const serial = f[offset];
  const subject = f[offset + 4];
  const spki = f[offset + 5];
  if (serial === undefined || subject === undefined || spki === undefined)
    throw new OcspError('not a certificate');
  const bits = children(spki)[1];
  if (bits === undefined) throw new OcspError('certificate without a public key');
  return { serial: serial.der, subject: subject.der, spkiBits: bits.contents.subarray(1) };
}

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest();

/** CertID of `leaf` issued by `issuer`, SHA-1 hashed as responders expect (RFC 5019 §2.1.1). */
function certId(leaf: X509Certificate, issuer: X509Certificate): Buffer {
  const i = tbsParts(issuer);
  return encode(
    SEQUENCE,
    encode(SEQUENCE, OID_SHA1, NULL),
    encode(0x04, sha1(i.subject)),
    encode(0x04, sha1(i.spkiBits)),
    tbsParts(leaf).serial,
  );
}

/** The DER OCSPRequest for one certificate (no nonce: RFC 5019 responders ignore it). */
export function ocspRequest(leafPem: string, issuerPem: string): Buffer {
  const id = certId(new X509Certificate(leafPem), new X509Certificate(issuerPem));
  return encode(SEQUENCE, encode(SEQUENCE, encode(SEQUENCE, encode(SEQUENCE, id))));
}

/** The OCSP responder URL of a certificate's Authority Information Access, if it has one. */
export function ocspUrl(leafPem: string): string | undefined {
  const info = new X509Certificate(leafPem).infoAccess ?? '';
  const m = /^OCSP - URI:(\S+)$/m.exec(info);
  return m?.[1];
}

/** The leaf and its issuer from a stored chain (leaf first); undefined without an issuer. */
export function leafAndIssuer(chainPem: string): { leaf: string; issuer: string } | undefined {
  const pems = chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  const [leaf, issuer] = pems ?? [];
  if (leaf === undefined || issuer === undefined) return undefined;
  return { leaf: `${leaf}\n`, issuer: `${issuer}\n` };
}

export interface OcspStaple {
  /** The whole OCSPResponse, as nginx's `ssl_stapling_file` reads it. */
  der: Buffer;
  /** Serial of the certificate it is about (hex, upper case, as X509Certificate gives it). */
  serial: string;
  thisUpdate: Date;
  /** When it stops being current; undefined: the responder gave none. */
  nextUpdate: Date | undefined;
}

function generalizedTime(t: Tlv | undefined): Date {
  const s = t?.contents.toString('latin1') ?? '';
  const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(?:\.\d+)?Z$/.exec(s);
  if (t?.tag !== 0x18 || m === null) throw new OcspError(`bad GeneralizedTime "${s}"`);
  const [, y, mo, d, h, mi, se] = m.map(Number);
  return new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d ?? 1, h ?? 0, mi ?? 0, se ?? 0));
}

/**
 * Checks a responder's answer about `leafPem` (issued by `issuerPem`) at `now` and returns it
 * as a staple. Throws OcspError with the reason when it must not be stapled: not successful,
 * not signed by the issuer (or an OCSPSigning responder certificate it issued), about another
 * certificate, not "good", or not current.
 */
export function checkOcspResponse(
  der: Buffer,
  leafPem: string,
  issuerPem: string,
  now: Date,
): OcspStaple {
  const leaf = new X509Certificate(leafPem);
  const issuer = new X509Certificate(issuerPem);
  const top = children(readTlv(der));
  const status = top[0];
  if (status?.tag !== 0x0a) throw new OcspError('not an OCSP response');
  const code = status.contents[0] ?? 0;
  if (code !== 0) throw new OcspError(`the responder answered status ${code} (not successful)`);
  const bytes = top[1] === undefined ? undefined : children(top[1])[0];
  const [type, octets] = bytes === undefined ? [] : children(bytes);
  if (type === undefined || octets === undefined || !type.der.equals(OID_OCSP_BASIC))
    throw new OcspError('not a basic OCSP response');
  const [tbs, sigAlg, signature, certs] = children(readTlv(octets.contents));
  if (tbs === undefined || sigAlg === undefined || signature === undefined)
    throw new OcspError('truncated basic OCSP response');

  // Signed by the issuer, or by a responder certificate the issuer signed for OCSP.
  const algOid = children(sigAlg)[0]?.contents.toString('hex') ?? '';
  const digest = SIGNATURE_DIGESTS[algOid];
  if (digest === undefined) throw new OcspError(`unsupported signature algorithm ${algOid}`);
  const sig = signature.contents.subarray(1);
  const signers = [issuer];
  if (certs !== undefined)
    for (const c of children(children(certs)[0] ?? certs)) {
      const responder = new X509Certificate(c.der);
      if (responder.verify(issuer.publicKey) && (responder.keyUsage ?? []).includes(OCSP_SIGNING))
        signers.push(responder);
    }
  const signed = signers.some((s) => verify(digest, tbs.der, s.publicKey, sig));
  if (!signed) throw new OcspError('the response is not signed by the issuer or its responder');

  const fields = children(tbs);
  const offset = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version
  const responses = fields[offset + 2];
  if (responses === undefined) throw new OcspError('no responses');
  const want = certId(leaf, issuer);
  const single = children(responses).find((r) => children(r)[0]?.der.equals(want));
  if (single === undefined) throw new OcspError('the response is not about this certificate');
  const [, certStatus, thisUpdateTlv, next] = children(single);
  if (certStatus?.tag !== 0x80)
    throw new OcspError(
      certStatus?.tag === 0xa1 ? 'the certificate is revoked' : 'the certificate status is unknown',
    );
  const thisUpdate = generalizedTime(thisUpdateTlv);
  const nextUpdate = next?.tag === 0xa0 ? generalizedTime(children(next)[0]) : undefined;
  if (thisUpdate.getTime() > now.getTime() + 5 * 60_000)
    throw new OcspError('the response is not valid yet');
  if (nextUpdate !== undefined && nextUpdate.getTime() <= now.getTime())
    throw new OcspError('the response has expired');
  return { der, serial: leaf.serialNumber.toUpperCase(), thisUpdate, nextUpdate };
}

/**
 * When a staple should be fetched again: halfway between thisUpdate and nextUpdate (so a
 * failing responder leaves half the validity to retry), an hour after thisUpdate without one.
 */
export function ocspRefreshAt(s: Pick<OcspStaple, 'thisUpdate' | 'nextUpdate'>): Date {
  if (s.nextUpdate === undefined) return new Date(s.thisUpdate.getTime() + 3_600_000);
  return new Date((s.thisUpdate.getTime() + s.nextUpdate.getTime()) / 2);
}

/** Asks `url` about the certificate (HTTP POST, RFC 6960 Appendix A.1); the DER answer. */
export async function fetchOcsp(url: string, request: Buffer, timeoutMs = 10_000): Promise<Buffer> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new OcspError(`OCSP URL ${url} is not http(s)`);
  const res = await fetch(u, {
    method: 'POST',
    headers: { 'content-type': 'application/ocsp-request', accept: 'application/ocsp-response' },
    body: request,
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new OcspError(`the OCSP responder ${url} answered HTTP ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  if (body.length > 64 * 1024) throw new OcspError('the OCSP response is larger than 64 KiB');
  return body;
}
