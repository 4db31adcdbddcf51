/** A site's certificate in the admin API. */
export const certificatePath = (domain: string) => `/v1/certificates/${encodeURIComponent(domain)}`;
