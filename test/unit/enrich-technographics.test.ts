import { describe, expect, it } from 'vitest';
import { detectTechnologies } from '../../services/enrich/technographics.ts';

describe('detectTechnologies: MX hosts → mail provider', () => {
  const cases: Array<[string[], string]> = [
    [['aspmx.l.google.com', 'alt1.aspmx.l.google.com'], 'Google Workspace'],
    [['acme-com.mail.protection.outlook.com.'], 'Microsoft 365'],
    [['mx0a-00123401.pphosted.com'], 'Proofpoint'],
    [['eu-smtp-inbound-1.mimecast.com'], 'Mimecast'],
    [['mx.zoho.eu'], 'Zoho Mail'],
    [['mx.zoho.com'], 'Zoho Mail'],
    [['in1-smtp.messagingengine.com'], 'Fastmail'],
    [['inbound-smtp.us-east-1.amazonaws.com'], 'Amazon SES'],
    [['d-123.awsapps.com'], 'Amazon WorkMail'],
    [['d123.ess.barracudanetworks.com'], 'Barracuda'],
    [['MX1.ACME.IPHMX.COM'], 'Cisco Secure Email'],
  ];
  it.each(cases)('%j → %s', (mx, provider) => {
    expect(detectTechnologies({ mx, txt: [] }).mail_provider).toBe(provider);
  });

  it('takes the mail provider from the most preferred recognised host, and lists every one', () => {
    const found = detectTechnologies({
      mx: ['mail.acme.example', 'mx0a.pphosted.com', 'aspmx.l.google.com'],
      txt: [],
    });
    expect(found.mail_provider).toBe('Proofpoint');
    expect(found.technologies).toEqual(['Google Workspace', 'Proofpoint']);
  });

  it('finds nothing for self-hosted mail', () => {
    expect(detectTechnologies({ mx: ['mail.acme.example'], txt: [] })).toEqual({
      mail_provider: null,
      technologies: [],
    });
  });
});

describe('detectTechnologies: SPF includes and verification TXT records → SaaS', () => {
  it('reads every include of an SPF record, with any qualifier', () => {
    const spf =
      'v=spf1 include:_spf.google.com include:_spf.salesforce.com include:mail.zendesk.com ' +
      'include:servers.mcsv.net include:sendgrid.net ~include:_spf.atlassian.net ' +
      'include:123456.spf01.hubspotemail.net include:mktomail.com ip4:192.0.2.1 -all';
    expect(detectTechnologies({ mx: [], txt: [spf] }).technologies).toEqual([
      'Atlassian',
      'Google Workspace',
      'HubSpot',
      'Mailchimp',
      'Marketo',
      'Salesforce',
      'SendGrid',
      'Zendesk',
    ]);
  });

  it('maps verification records by prefix', () => {
    const txt = [
      'google-site-verification=abc123',
      'atlassian-domain-verification=xyz',
      'docusign=1b2c3d',
      'MS=ms12345678',
      'facebook-domain-verification=q1w2e3',
      'stripe-verification=deadbeef',
      'slack-domain-verification=s1',
      'some-unknown-token=1',
    ];
    expect(detectTechnologies({ mx: [], txt }).technologies).toEqual([
      'Atlassian',
      'DocuSign',
      'Google Search Console',
      'Meta Business',
      'Microsoft 365',
      'Slack',
      'Stripe',
    ]);
  });

  it('ignores includes it does not know and TXT that merely mentions a product', () => {
    const found = detectTechnologies({
      mx: [],
      txt: ['v=spf1 include:spf.acme-mailer.example -all', 'we love salesforce'],
    });
    expect(found.technologies).toEqual([]);
  });

  it('combines MX and TXT findings without duplicates', () => {
    const found = detectTechnologies({
      mx: ['aspmx.l.google.com'],
      txt: ['v=spf1 include:_spf.google.com ~all', 'google-site-verification=x'],
    });
    expect(found).toEqual({
      mail_provider: 'Google Workspace',
      technologies: ['Google Search Console', 'Google Workspace'],
    });
  });
});
