import PDFDocument from 'pdfkit';
import type { Invoice } from './store.ts';

const amount = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency.toUpperCase()}`;
const day = (iso: string) => iso.slice(0, 10);

/**
 * The invoice as a one-page A4 PDF (pdfkit, its built-in Helvetica: no font files). Text is drawn
 * label then value on one line each, so a text extractor (pdftotext) reads "Total: 499.00 USD".
 */
export function renderInvoicePdf(invoice: Invoice): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 56,
    info: { Title: `Invoice ${invoice.invoice_number}`, Author: invoice.seller[0] ?? '' },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (b: Buffer) => chunks.push(b));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.font('Helvetica-Bold').fontSize(20).text(`Invoice ${invoice.invoice_number}`);
  doc.moveDown(0.5).font('Helvetica').fontSize(10);
  doc.text(`Invoice date: ${day(invoice.created_at)}`);
  if (invoice.period_start && invoice.period_end) {
    doc.text(`Service period: ${day(invoice.period_start)} to ${day(invoice.period_end)}`);
  }
  doc.text(`Order: ${invoice.order_id}`);

  doc.moveDown().font('Helvetica-Bold').text('Seller');
  doc.font('Helvetica');
  for (const line of invoice.seller) doc.text(line);
  doc.moveDown().font('Helvetica-Bold').text('Customer');
  doc.font('Helvetica');
  for (const line of [
    invoice.customer.company,
    invoice.customer.email,
    `Account ${invoice.customer.account_id}`,
  ]) {
    if (line) doc.text(line);
  }

  doc.moveDown().font('Helvetica-Bold').text('Lines');
  doc.font('Helvetica');
  for (const l of invoice.lines) {
    doc.text(
      `${l.description}: ${l.quantity} x ${amount(l.unit_cents, invoice.currency)} = ${amount(l.amount_cents, invoice.currency)}`,
    );
  }
  doc.moveDown();
  doc.text(`Subtotal: ${amount(invoice.subtotal_cents, invoice.currency)}`);
  doc.text(`VAT (${invoice.vat_percent}%): ${amount(invoice.vat_cents, invoice.currency)}`);
  doc.font('Helvetica-Bold').text(`Total: ${amount(invoice.total_cents, invoice.currency)}`);
  doc.end();
  return done;
}
