const HE = require('hyper-express');
const opts = process.argv[2] === 'enc' ? { key_file_name: '/tmp/t19/key-enc.pem', cert_file_name: '/tmp/t19/cert.pem', passphrase: process.argv[3] } : process.argv[2]==='tls' ? { key_file_name: '/tmp/t19/key.pem', cert_file_name: '/tmp/t19/cert.pem' } : {};
let app;
try { app = new HE.Server(opts); } catch (e) { console.log('ctor error', e.message); process.exit(1); }
app.get('/ip', (req, res) => res.send(JSON.stringify({ ip: req.ip })));
app.listen(Number(process.argv[4] || 18601), process.argv[5] || '127.0.0.1').then(() => console.log('listening'), (e) => { console.log('listen err', e); process.exit(1); });
setTimeout(() => process.exit(0), 4000);
